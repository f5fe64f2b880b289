"""`licensewatch recommendations` end to end: 80-column table, JSON contract, CSV, exclusions."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from intelligence_world import start_and_sync, sync
from sqlalchemy import Engine
from typer.testing import CliRunner, Result

from database_fixtures import add_tenant
from emulator_fixtures import EmulatorFactory
from licensewatch.cli import app
from licensewatch.emulator.seed import build_world
from licensewatch.emulator.truth import ground_truth

CONTRACT = {
    "tenant", "user_principal_name", "action", "sku_part_number", "target_sku_part_number",
    "reason", "monthly_saving", "yearly_saving", "currency", "confidence",
}  # fmt: skip


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str) -> CliRunner:
    monkeypatch.setenv("LICENSEWATCH_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("LICENSEWATCH_SECRET_KEY", raising=False)
    monkeypatch.setenv("LICENSEWATCH_DATABASE_URL", database_url)
    monkeypatch.setenv("COLUMNS", "80")
    return CliRunner()


def run(cli: CliRunner, *args: str, code: int = 0) -> Result:
    result = cli.invoke(app, list(args))
    assert "Traceback" not in result.output, result.output
    assert result.exit_code == code, result.output
    return result


def test_recommendations_cli(
    cli: CliRunner, make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path
) -> None:
    synced = start_and_sync(make_emulator, engine, tmp_path, scenario="messy", users=40)
    tenant = synced.tenant.domain
    run(cli, "prices", "set", "SPE_E3", "36.00", "--currency", "EUR", "--term", "monthly")
    items = json.loads(run(cli, "recommendations", "--format", "json").output)
    expected = ground_truth(synced.tenant)["usage"]["recommendations"]
    assert len(items) == len(expected) > 0
    for item in items:
        assert set(item) >= CONTRACT
        assert item["action"] in {"remove", "downgrade", "remove_duplicate", "remove_addon"}
        if item["sku_part_number"] == "SPE_E3" and item["action"] == "remove":
            assert (item["monthly_saving"], item["yearly_saving"], item["currency"]) == (
                "36.00",
                "432.00",
                "EUR",
            )
    rows = list(csv.DictReader(io.StringIO(run(cli, "recommendations", "--format", "csv").output)))
    assert len(rows) == len(items)
    table = run(cli, "recommendations", "--tenant", tenant).output
    assert all(len(line) <= 80 for line in table.splitlines()), table
    assert "usage as of" in table
    assert "per year" in table
    run(cli, "recommendations", "--tenant", "nope", code=2)

    upn = items[0]["user_principal_name"]
    run(cli, "recommendations", "exclude", "user", upn)
    listed = json.loads(run(cli, "recommendations", "exclusions", "--format", "json").output)
    assert [i["label"] for i in listed] == [upn]
    assert "user" in run(cli, "recommendations", "exclusions").output
    left = json.loads(run(cli, "recommendations", "--format", "json").output)
    assert upn not in {i["user_principal_name"] for i in left}
    run(cli, "recommendations", "include", "user", upn)
    run(cli, "recommendations", "exclude", "group", "No such group", code=2)
    assert json.loads(run(cli, "recommendations", "exclusions", "--format", "json").output) == []


def test_missing_permission_and_concealed_names_say_what_to_do(
    cli: CliRunner, make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path
) -> None:
    world = build_world(tenants=4, users=10, seed=3, scenario="msp", cert_dir=tmp_path)
    emulator = make_emulator(world)
    tenants = list(world.tenants.values())
    for tenant in (tenants[1], tenants[2]):  # concealed names; no report permission
        sync(engine, emulator, tenant, add_tenant(engine, tenant.domain, tenant.tenant_id))
    concealed = run(cli, "recommendations", "--tenant", tenants[1].domain).output
    assert "concealed" in concealed
    assert "Settings > Org settings > Services > Reports" in " ".join(concealed.split())
    missing = " ".join(run(cli, "recommendations", "--tenant", tenants[2].domain).output.split())
    assert "Reports.Read.All" in missing
    assert "Grant admin consent" in missing
