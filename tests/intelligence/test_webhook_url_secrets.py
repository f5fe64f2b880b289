"""Webhook URLs are secrets: never an argument, encrypted at rest, shown as scheme://host/… only."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from alert_receivers import Hook, webhook_server
from sqlalchemy import Engine, select, text
from typer.testing import CliRunner

from licensewatch.cli import app
from licensewatch.intelligence.alerts.evaluate import alert_log, send_test
from licensewatch.intelligence.alerts.rules import add_destination, destination
from licensewatch.security.crypto import load_keyring
from licensewatch.settings import Settings
from licensewatch.storage.database import make_engine, session_scope
from licensewatch.storage.migrate import upgrade
from licensewatch.storage.models.intelligence import AlertDestination
from web_fixtures import WebEnv

TOKEN = "s3cr3t-path-token-0123456789"
CODE = "function-code-ABCDEF0123456789"
SHOWN = "http://127.0.0.1/…"


def _secret_url(hook: Hook) -> str:
    return f"{hook.url}/{TOKEN}?code={CODE}"


def _leaks(text: str) -> bool:
    return TOKEN in text or CODE in text or "hooks/licensewatch" in text


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("LICENSEWATCH_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("LICENSEWATCH_SECRET_KEY", raising=False)
    monkeypatch.delenv("LICENSEWATCH_DATABASE_URL", raising=False)
    return Settings()


@pytest.fixture
def hook() -> Iterator[Hook]:
    with webhook_server() as receiver:
        yield receiver


def test_the_cli_never_takes_the_url_as_an_argument(settings: Settings, hook: Hook) -> None:
    cli = CliRunner()
    refused = cli.invoke(app, ["alerts", "destination", "ops", "--webhook", _secret_url(hook)])
    assert refused.exit_code == 2
    assert "--webhook-stdin" in refused.output
    assert "never taken as an argument" in refused.output
    listed = cli.invoke(app, ["alerts", "list", "--format", "json"])
    assert '"destinations": []' in listed.output


def test_url_from_a_file_encrypted_at_rest_redacted_in_every_output(
    settings: Settings, hook: Hook, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url_file = tmp_path / "hook.url"
    url_file.write_text(_secret_url(hook) + "\n")
    cli = CliRunner()
    added = cli.invoke(app, ["alerts", "destination", "ops", "--webhook-file", str(url_file)])
    assert added.exit_code == 0, added.output

    # At rest: neither the database file nor its WAL holds the URL; the key opens it.
    stored = b"".join(p.read_bytes() for p in settings.home.glob("licensewatch.db*"))
    assert b"127.0.0.1" in stored  # the redacted form is there...
    assert TOKEN.encode() not in stored
    assert CODE.encode() not in stored
    engine = make_engine(settings.database_url)
    try:
        with session_scope(engine, write=False) as session:
            assert destination(session, "ops").target == _secret_url(hook)

        # A failed delivery: the WARNING log, the alert log, the CLI log and list show the host.
        hook.status = 500
        with caplog.at_level(logging.WARNING):
            notice = send_test(engine, "ops")
        assert not notice.delivered
        assert notice.error == f"webhook {SHOWN} answered HTTP 500"
        warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
        assert any(SHOWN in message for message in warnings)
        assert not any(_leaks(message) for message in warnings)
        assert not any(_leaks(str(entry)) for entry in alert_log(engine))
    finally:
        engine.dispose()
    for command in (["alerts", "log"], ["alerts", "list"], ["alerts", "list", "--format", "json"]):
        output = cli.invoke(app, command).output
        assert not _leaks(output), command
    assert SHOWN in cli.invoke(app, ["alerts", "list", "--format", "json"]).output
    # The receiver did get the real URL (path and query).
    assert hook.requests


def test_an_unreachable_webhook_names_only_its_host(settings: Settings) -> None:
    with webhook_server() as closed:
        url = _secret_url(closed)
    engine = make_engine(settings.database_url)
    try:
        with webhook_server():  # the opt-in, for a receiver that is gone
            add_destination(engine, "gone", "webhook", url)
            notice = send_test(engine, "gone")
    finally:
        engine.dispose()
    assert not notice.delivered
    assert notice.error is not None
    assert notice.error.startswith(f"webhook {SHOWN} unreachable")
    assert not _leaks(notice.error)


def test_the_alerts_page_shows_no_webhook_url(
    web: WebEnv, admin: tuple[httpx.Client, str], hook: Hook
) -> None:
    client, _csrf = admin
    ring = load_keyring(web.settings)
    add_destination(web.engine, "page-hook", "webhook", _secret_url(hook), keyring=ring)
    hook.status = 503
    notice = send_test(web.engine, "page-hook", keyring=ring)
    assert not notice.delivered
    page = client.get("/alerts")
    assert page.status_code == 200
    assert "answered HTTP 503" in page.text
    assert SHOWN in page.text
    assert not _leaks(page.text)


def test_migration_0007_encrypts_existing_clear_urls(
    settings: Settings, hook: Hook, database_url: str
) -> None:
    engine = make_engine(database_url, upgrade=False)  # SQLite and PostgreSQL
    try:
        upgrade(engine, "0005")
        url = _secret_url(hook)
        with engine.begin() as connection:  # what 0005 stored: the URL in clear
            connection.execute(
                text(
                    "INSERT INTO alert_destinations (name, kind, target, options, created_at) "
                    "VALUES ('old', 'webhook', :url, '{}', CURRENT_TIMESTAMP),"
                    " ('mail', 'email', 'it@example.org', '{}', CURRENT_TIMESTAMP)"
                ),
                {"url": url},
            )
            connection.execute(  # what 0005 logged after a failed delivery
                text(
                    "INSERT INTO alert_log (sent_at, destination, event, subject, message,"
                    " delivered, error) VALUES (CURRENT_TIMESTAMP, 'old', 'test', 'test', 'm',"
                    " false, :error)"
                ),
                {"error": f"webhook {url} answered HTTP 500"},
            )
        upgrade(engine)
        assert alert_log(engine)[0]["error"] == f"webhook {SHOWN} answered HTTP 500"
        with session_scope(engine, write=False) as session:
            rows = {r.name: r for r in session.scalars(select(AlertDestination))}
            assert rows["old"].target == SHOWN
            assert rows["old"].target_ciphertext is not None
            assert rows["mail"].target == "it@example.org"
            assert rows["mail"].target_ciphertext is None
            assert destination(session, "old").target == url
        assert send_test(engine, "old").delivered
        upgrade_down(engine)
        with engine.connect() as connection:
            restored = connection.scalar(
                text("SELECT target FROM alert_destinations WHERE name = 'old'")
            )
        assert restored == url
    finally:
        engine.dispose()


def upgrade_down(engine: Engine) -> None:
    from alembic import command

    from licensewatch.storage.migrate import alembic_config

    with engine.connect() as connection:
        command.downgrade(alembic_config(connection), "0005")
        connection.commit()
