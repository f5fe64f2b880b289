"""`licensewatch changes` against the emulator over TLS: filters and the three output formats."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from emulator_fixtures import EmulatorFactory
from licensewatch.cli import app
from licensewatch.emulator import mutations
from licensewatch.emulator.server import RunningEmulator
from licensewatch.emulator.state import Tenant
from licensewatch.intelligence.builtin_names import builtin_name


class Cli:
    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None) -> Result:
        result = self.runner.invoke(app, list(args), input=input)
        assert "Traceback" not in result.output, result.output
        return result

    def json(self, *args: str) -> list[dict[str, Any]]:
        result = self("changes", *args, "--format", "json")
        assert result.exit_code == 0, result.output
        rows: list[dict[str, Any]] = json.loads(result.stdout)
        return rows


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.setenv("LICENSEWATCH_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("LICENSEWATCH_SECRET_KEY", raising=False)
    monkeypatch.delenv("LICENSEWATCH_DATABASE_URL", raising=False)
    return Cli()


def _add(cli: Cli, emulator: RunningEmulator, name: str, index: int) -> None:
    info, tenant = emulator.info, emulator.info["tenants"][index]
    added = cli(
        "tenant", "add", name, "--tenant-id", tenant["domain"], "--client-id",
        tenant["client_id"], "--client-secret-stdin", "--authority-host", info["authority_host"],
        "--graph-endpoint", info["graph_endpoint"], "--ca-bundle", info["ca_bundle"],
        input=tenant["client_secret"] + "\n",
    )  # fmt: skip
    assert added.exit_code == 0, added.output


def _change(tenant: Tenant) -> dict[str, str]:
    """Disable one user, take a direct licence from another; returns their UPNs and the SKU."""
    people = [u for _, u in tenant.iter_users_from(0)]
    off = next(u for u in people if u.account_enabled)
    loser = next(
        u for u in people if u is not off and any(not a.assigned_by_group for a in u.assignments)
    )
    sku = next(a.sku_id for a in loser.assignments if not a.assigned_by_group)
    mutations.set_enabled(tenant, off.id, False)
    mutations.unassign(tenant, loser.id, sku)
    return {"off": off.user_principal_name, "loser": loser.user_principal_name, "sku": sku}


def test_changes_command_filters_and_formats(make_emulator: EmulatorFactory, cli: Cli) -> None:
    emulator = make_emulator(tenants=2, users=30, seed=4, scenario="messy")
    tenants = list(emulator.world.tenants.values())
    for index, name in enumerate(("north", "south")):
        _add(cli, emulator, name, index)
    empty = cli("changes")
    assert empty.exit_code == 0
    assert "No licence changes" in empty.stdout
    assert cli("sync", "--all").exit_code == 0  # the baseline
    assert cli.json() == []
    north, south = (_change(tenant) for tenant in tenants)
    assert cli("sync", "--all").exit_code == 0

    rows = cli.json()
    assert {(r["tenant"], r["kind"], r["user_principal_name"]) for r in rows} == {
        ("north", "account_disabled", north["off"]),
        ("north", "licence_removed", north["loser"]),
        ("south", "account_disabled", south["off"]),
        ("south", "licence_removed", south["loser"]),
    }
    removed = next(r for r in rows if r["user_principal_name"] == north["loser"])
    assert (removed["sku_id"], removed["assigned_by_group"]) == (north["sku"], None)
    assert removed["sku_part_number"]
    # The friendly name where one is known (built-in names here), the part number beside it.
    named = builtin_name(removed["sku_part_number"])
    assert named is not None
    assert removed["product"] == named
    assert {r["tenant"] for r in cli.json("--tenant", "south")} == {"south"}
    mine = cli.json("--user", north["off"].upper(), "--since", "7d")
    assert [(r["kind"], r["user_principal_name"]) for r in mine] == [
        ("account_disabled", north["off"])
    ]
    assert {r["tenant"] for r in cli.json("--kind", "licence_removed")} == {"north", "south"}
    assert len(cli.json("--kind", "licence_removed")) == 2
    assert len(cli.json("--limit", "1")) == 1

    table = cli("changes", "--tenant", "north")
    assert table.exit_code == 0, table.output
    assert north["off"] in table.stdout
    assert "account_disabled" in table.stdout
    assert "direct" in table.stdout
    assert named in table.stdout
    csv_out = cli("changes", "--format", "csv", "--kind", "account_disabled")
    parsed = list(csv.DictReader(io.StringIO(csv_out.stdout)))
    assert {row["user_principal_name"] for row in parsed} == {north["off"], south["off"]}

    bad = cli("changes", "--since", "yesterday")
    assert bad.exit_code == 2
    assert "not a duration" in bad.output
    assert cli("changes", "--tenant", "nowhere").exit_code == 2
    assert cli("changes", "--kind", "licence_stolen").exit_code == 2
