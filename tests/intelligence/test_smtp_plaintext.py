"""`--smtp-security none` only to a relay on this host (or opted in); AUTH never in clear."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alert_receivers import Mailbox, smtp_server
from sqlalchemy import Engine, update
from typer.testing import CliRunner

from licensewatch.cli import app
from licensewatch.intelligence.alerts.evaluate import send_test
from licensewatch.intelligence.alerts.rules import add_destination
from licensewatch.intelligence.alerts.smtp import PlaintextRefused
from licensewatch.storage.database import make_engine, session_scope
from licensewatch.storage.models.intelligence import AlertDestination

OPT_IN = "LICENSEWATCH_ALLOW_PLAINTEXT_SMTP"
REMOTE = "192.0.2.10"  # TEST-NET-1: never answers, so a connection attempt would hang


@pytest.fixture
def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    monkeypatch.setenv("LICENSEWATCH_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("LICENSEWATCH_SECRET_KEY", raising=False)
    monkeypatch.delenv("LICENSEWATCH_DATABASE_URL", raising=False)
    monkeypatch.delenv(OPT_IN, raising=False)
    created = make_engine(f"sqlite:///{tmp_path / 'home' / 'licensewatch.db'}")
    yield created
    created.dispose()


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """The CLI points the root logger at CliRunner's stream, closed afterwards: undo that."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def _options(host: str, **extra: Any) -> dict[str, Any]:
    return {"host": host, "port": 25, "security": "none", "sender": "lw@example.org"} | extra


@pytest.mark.usefixtures("restore_logging")
def test_plaintext_to_a_remote_host_is_refused_unless_opted_in(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(PlaintextRefused, match=f"{OPT_IN}=true"):
        add_destination(engine, "m", "email", "it@example.org", options=_options(REMOTE))
    result = CliRunner().invoke(
        app,
        [
            "alerts",
            "destination",
            "m",
            "--email",
            "it@example.org",
            "--smtp-host",
            REMOTE,
            "--smtp-security",
            "none",
            "--from",
            "lw@example.org",
        ],
    )
    assert result.exit_code == 2
    assert "unencrypted" in result.output
    monkeypatch.setenv(OPT_IN, "true")
    add_destination(engine, "m", "email", "it@example.org", options=_options(REMOTE))


def test_auth_in_clear_is_refused_even_when_opted_in(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(OPT_IN, "true")
    with pytest.raises(PlaintextRefused, match=r"SMTP password .* in clear"):
        add_destination(
            engine,
            "m",
            "email",
            "it@example.org",
            secret="smtp-password-123",
            options=_options(REMOTE, username="lw"),
        )


def test_delivery_refuses_before_connecting(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(OPT_IN, "true")
    add_destination(engine, "m", "email", "it@example.org", options=_options(REMOTE))
    monkeypatch.delenv(OPT_IN)
    started = time.monotonic()
    notice = send_test(engine, "m")
    assert not notice.delivered
    assert notice.error is not None
    assert "unencrypted" in notice.error
    # A configuration stored by an older version, with a user: never AUTH PLAIN on the wire.
    with session_scope(engine) as session:
        session.execute(update(AlertDestination).values(options=_options(REMOTE, username="lw")))
    monkeypatch.setenv(OPT_IN, "true")
    notice = send_test(engine, "m")
    assert notice.error is not None
    assert "SMTP password" in notice.error
    assert time.monotonic() - started < 5  # refused, not a connection attempt timing out


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with smtp_server() as server:
        yield server


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_a_relay_on_this_host_still_works(engine: Engine, mailbox: Mailbox, host: str) -> None:
    options = _options(host, port=mailbox.port)
    add_destination(engine, "local", "email", "it@example.org", options=options)
    assert send_test(engine, "local").delivered
    assert len(mailbox.messages) == 1
