"""Test-suite wiring: shared fixtures live in plugin modules, each owned by one area."""

from __future__ import annotations

import os

import pytest

pytest_plugins = [
    "emulator_fixtures",
    "database_fixtures",
    "web_fixtures",
    "sso_fixtures",
    "browser_fixtures",
]


@pytest.fixture(autouse=True)
def _no_global_ca_bundle(monkeypatch: pytest.MonkeyPatch) -> None:
    """These variables silently override the TLS settings of requests (and MSAL): remove them."""
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def _no_inherited_terminal_size(monkeypatch: pytest.MonkeyPatch) -> None:
    """pytest-xdist's workers inherit COLUMNS=80/LINES=24: a test that wants a width sets one."""
    for name in ("COLUMNS", "LINES"):
        monkeypatch.delenv(name, raising=False)


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"
