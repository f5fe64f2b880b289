"""Daemon logs in text and JSON: secrets, bearer tokens and JWTs logged by accident are masked."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from licensewatch.logging_setup import configure_logging
from licensewatch.security.redaction import RedactionFilter
from licensewatch.settings import LogFormat, Settings

SECRET = "abC8Q~Zk3-very.secret_value+1"
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJ0aWQiOiJ4In0.c2lnbmF0dXJlLWJ5dGVz"


@pytest.fixture
def restore_root() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.usefixtures("restore_root")
@pytest.mark.parametrize("fmt", [LogFormat.TEXT, LogFormat.JSON])
def test_accidental_secrets_are_masked(fmt: LogFormat) -> None:
    stream = io.StringIO()
    handler = configure_logging(Settings(log_format=fmt), stream, level="DEBUG")
    assert any(isinstance(f, RedactionFilter) for f in handler.filters)
    assert logging.getLogger().handlers.count(handler) == 1
    log = logging.getLogger("licensewatch.test")
    log.info("token request client_secret=%s&grant_type=client_credentials", SECRET)
    log.warning("calling Graph with Authorization: Bearer %s", JWT)
    log.error("token was %s", JWT, extra={"tenant": "t01", "detail": f"secret={SECRET}"})
    try:
        raise RuntimeError(f"failed with client_secret={SECRET}")
    except RuntimeError:
        log.exception("boom")
    output = stream.getvalue()
    assert SECRET not in output
    assert JWT not in output
    assert "eyJ" not in output
    assert output.count("***") >= 4
    lines = output.strip().splitlines()
    if fmt == LogFormat.JSON:
        records = [json.loads(line) for line in lines]
        assert [r["level"] for r in records] == ["INFO", "WARNING", "ERROR", "ERROR"]
        assert records[2]["tenant"] == "t01"
        assert "RuntimeError" in records[3]["exception"]
    else:
        assert "INFO licensewatch.test: token request client_secret=***" in lines[0]


@pytest.mark.usefixtures("restore_root")
def test_reconfiguring_replaces_the_handler() -> None:
    first = configure_logging(Settings(), io.StringIO())
    second = configure_logging(Settings(log_format=LogFormat.JSON), io.StringIO())
    root = logging.getLogger().handlers
    assert second in root
    assert first not in root
