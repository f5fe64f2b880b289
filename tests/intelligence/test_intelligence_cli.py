"""The intelligence CLI end to end: names, prices, costs, findings, alerts and reports."""

from __future__ import annotations

import hashlib
import hmac
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from alert_receivers import Hook, webhook_server
from intelligence_world import held, start_and_sync, users
from sqlalchemy import Engine
from typer.testing import CliRunner, Result

from emulator_fixtures import EmulatorFactory
from licensewatch.cli import app


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str) -> CliRunner:
    monkeypatch.setenv("LICENSEWATCH_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("LICENSEWATCH_SECRET_KEY", raising=False)
    monkeypatch.setenv("LICENSEWATCH_DATABASE_URL", database_url)
    return CliRunner()


def run(cli: CliRunner, *args: str, input: str | None = None, code: int = 0) -> Result:
    result = cli.invoke(app, list(args), input=input)
    assert "Traceback" not in result.output, result.output
    assert result.exit_code == code, result.output
    return result


@pytest.fixture
def hook() -> Iterator[Hook]:
    with webhook_server() as receiver:
        yield receiver


def test_cli_names_prices_findings_alerts_report(
    cli: CliRunner,
    make_emulator: EmulatorFactory,
    engine: Engine,
    tmp_path: Path,
    hook: Hook,
) -> None:
    synced = start_and_sync(make_emulator, engine, tmp_path)
    tenant = synced.tenant.domain
    assert "Microsoft 365 E3" in run(cli, "catalog", "list").output
    run(cli, "catalog", "set-name", "SPE_E3", "M365 E3 (EA)")
    assert "M365 E3 (EA)" in run(cli, "catalog", "list", "--format", "csv").output
    run(cli, "catalog", "set-name", "NOPE", "x", code=2)

    run(cli, "prices", "set", "SPE_E3", "36.00", "--currency", "EUR", "--term", "monthly")
    run(cli, "prices", "set", "SPE_E3", "36", "--currency", "EURO", code=2)
    prices = json.loads(run(cli, "prices", "list", "--format", "json").output)
    assert prices == [
        {
            "sku_id": "05e9a617-0261-4cee-bb44-138d3ef5d965",
            "part_number": "SPE_E3",
            "amount": "36.00",
            "currency": "EUR",
            "term": "monthly",
        }
    ]
    costs = json.loads(run(cli, "costs", "--tenant", tenant, "--format", "json").output)
    assert costs[0]["purchased"]["monthly"]["EUR"]
    assert costs[0]["purchased"]["unpriced"]

    found = json.loads(run(cli, "findings", "--tenant", tenant, "--format", "json").output)
    disabled = next(f for f in found if f["rule"] == "disabled_holders")
    expected = sorted(
        u.user_principal_name for u in users(synced.tenant) if held(u) and not u.account_enabled
    )
    assert [a["key"] for a in disabled["affected"]] == expected
    rows = run(cli, "findings", "--format", "csv").output.splitlines()
    assert rows[0].startswith("tenant,rule,title,user_principal_name")
    table = run(cli, "findings", "--tenant", tenant).output
    assert expected[0] in table
    assert "unavailable:" in table  # no AuditLog.Read.All: the sign-in rules say why
    run(cli, "findings", "--tenant", "nope", code=2)
    run(cli, "findings", "exclude", "SPE_E3", "--scope", "alerts")
    run(cli, "findings", "include", "SPE_E3")
    assert "inactive_days = 60" in run(cli, "findings", "settings", "inactive_days", "60").output

    secret = "cli-hook-secret"
    stdin = f"{hook.url}\n{secret}\n"  # the URL is a secret too: never an argument
    run(cli, "alerts", "destination", "ops", "--webhook-stdin", "--secret-stdin", input=stdin)
    run(cli, "alerts", "add", "over_assigned", "--to", "ops", "--tenant", tenant)
    listed = json.loads(run(cli, "alerts", "list", "--format", "json").output)
    assert listed["destinations"] == [
        {"name": "ops", "kind": "webhook", "target": "http://127.0.0.1/…", "signed": True}
    ]
    assert "hooks/licensewatch" not in run(cli, "alerts", "list").output
    assert secret not in json.dumps(listed)
    first = run(cli, "alerts", "run").output
    assert "opened" in first
    assert "Nothing new" in run(cli, "alerts", "run", "--tenant", tenant).output
    headers, body = hook.requests[0]
    signed = headers["x-licensewatch-timestamp"].encode() + b"." + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    assert headers["x-licensewatch-signature"] == f"sha256={digest}"
    assert "M365 E3 (EA)" in json.loads(body)["message"]
    run(cli, "alerts", "test", "ops")
    log = json.loads(run(cli, "alerts", "log", "--format", "json").output)
    assert [e["event"] for e in log] == ["test", "opened"]

    for fmt, suffix in (("html", "html"), ("xlsx", "xlsx"), ("csv", "zip")):
        target = tmp_path / f"report.{suffix}"
        run(cli, "report", "--tenant", tenant, "--format", fmt, "--output", str(target))
        assert target.stat().st_size > 0
    assert expected[0] in (tmp_path / "report.html").read_text()
    with zipfile.ZipFile(tmp_path / "report.zip") as archive:
        assert "findings.csv" in archive.namelist()
    run(cli, "report", "--format", "pdf", "--output", str(tmp_path / "x"), code=2)
    run(cli, "report", "send", "--to", "ops", code=2)  # a webhook cannot take a report
