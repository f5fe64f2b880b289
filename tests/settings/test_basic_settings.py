"""The basic settings read without pydantic-settings equal `Settings()`'s, or defer to it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from pydantic import ValidationError

from licensewatch.basic_settings import BasicSettings, read_basic_settings
from licensewatch.quick_settings import load_basic_settings
from licensewatch.settings import Settings


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """Exactly these `LICENSEWATCH_*` variables (any case) for the block."""
    saved = dict(os.environ)
    for key in [k for k in os.environ if k.lower().startswith("licensewatch_")]:
        del os.environ[key]
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def expected() -> BasicSettings:
    full = Settings()
    return BasicSettings(full.home, full.database_url, full.log_format, full.log_level)


# Read directly: the reader must answer, and answer what pydantic-settings answers.
DIRECT = [
    {},
    {"LICENSEWATCH_HOME": "/srv/lw"},
    {"LICENSEWATCH_HOME": "~/lw-data"},
    {"licensewatch_home": "/srv/lower", "LICENSEWATCH_LOG_LEVEL": " warning "},
    {"LICENSEWATCH_DATABASE_URL": "postgresql://u@db/lw", "LICENSEWATCH_LOG_FORMAT": "json"},
    {"LICENSEWATCH_DATABASE_URL": "   ", "LICENSEWATCH_HOME": "/srv/blank-url"},
    {"LiceNSEwatch_Log_Format": "text", "LICENSEWATCH_LOG_LEVEL": "debug"},
    {"LICENSEWATCH_SECRET_KEY": "a,b", "LICENSEWATCH_PUBLIC_URL": ""},
    {"OTHER_HOME": "/another-prefix", "LICENSEWATCH": "no underscore"},
]
# Deferred to pydantic-settings: a variable the reader does not check, a name twice, a value
# it would reject (pydantic then answers or raises).
DEFERRED = [
    {"LICENSEWATCH_RETRY_MAX_ATTEMPTS": "3"},
    {"LICENSEWATCH_TRUSTED_PROXIES": "10.0.0.0/8"},
    {"LICENSEWATCH_HOME": "/a", "licensewatch_HOME": "/b"},
    {"LICENSEWATCH_HOME": ""},
]
INVALID = [
    {"LICENSEWATCH_LOG_LEVEL": "loud"},
    {"LICENSEWATCH_LOG_FORMAT": "JSON"},
    {"LICENSEWATCH_RETRY_MAX_ATTEMPTS": "0"},
    {"LICENSEWATCH_TRUSTED_PROXIES": "not-an-address"},
]


@pytest.mark.parametrize("values", DIRECT, ids=repr)
def test_the_reader_answers_as_pydantic_settings(values: dict[str, str]) -> None:
    with environment(values):
        assert read_basic_settings() == expected()
        assert load_basic_settings() == expected()


def test_an_unknown_licensewatch_variable_defers() -> None:
    # pydantic-settings ignores it (extra="ignore"), but only it knows every field name.
    with environment({"LICENSEWATCH_HOMEX": "/x"}):
        assert read_basic_settings() is None
        assert load_basic_settings() == expected()


@pytest.mark.parametrize("values", DEFERRED, ids=repr)
def test_what_the_reader_cannot_settle_goes_to_pydantic(values: dict[str, str]) -> None:
    with environment(values):
        assert read_basic_settings() is None
        try:
            wanted: BasicSettings | str = expected()
        except ValueError as error:
            wanted = type(error).__name__
        try:
            got: BasicSettings | str = load_basic_settings()
        except ValueError as error:
            got = type(error).__name__
        assert got == wanted


@pytest.mark.parametrize("values", INVALID, ids=repr)
def test_invalid_settings_fail_as_before(values: dict[str, str]) -> None:
    with environment(values):
        with pytest.raises(ValidationError) as full:
            Settings()
        with pytest.raises(ValidationError) as basic:
            load_basic_settings()
        assert str(basic.value) == str(full.value)


def test_the_default_home_is_platformdirs() -> None:
    with environment({}):
        settings = load_basic_settings()
        assert settings.home == Settings().home
    assert settings.database_url == f"sqlite:///{settings.home / 'licensewatch.db'}"
