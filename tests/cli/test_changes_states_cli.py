"""`licensewatch changes` after a sync over TLS: assignment states and soft deletes in words."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from emulator_fixtures import EmulatorFactory
from licensewatch.cli import app
from licensewatch.emulator import assignment_states, mutations


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("LICENSEWATCH_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("LICENSEWATCH_SECRET_KEY", raising=False)
    monkeypatch.delenv("LICENSEWATCH_DATABASE_URL", raising=False)
    return CliRunner()


def _ok(runner: CliRunner, *args: str, input: str | None = None) -> str:
    result = runner.invoke(app, list(args), input=input)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_changes_show_states_errors_and_soft_deletes(
    make_emulator: EmulatorFactory, runner: CliRunner
) -> None:
    emulator = make_emulator(users=30, seed=4, scenario="messy")
    info, listed = emulator.info, emulator.info["tenants"][0]
    tenant = next(iter(emulator.world.tenants.values()))
    _ok(
        runner, "tenant", "add", "north", "--tenant-id", listed["domain"], "--client-id",
        listed["client_id"], "--client-secret-stdin", "--authority-host", info["authority_host"],
        "--graph-endpoint", info["graph_endpoint"], "--ca-bundle", info["ca_bundle"],
        input=listed["client_secret"] + "\n",
    )  # fmt: skip
    failed = mutations.hire(tenant, {"displayName": "Fay Failed"})
    gone = mutations.hire(tenant, {"displayName": "Gus Gone"})
    _ok(runner, "sync", "--all")
    people = [u for _, u in tenant.iter_users_from(0)]
    group = next(g for g in tenant.groups.values() if g.assigned_licenses)
    sku = group.assigned_licenses[0][0]
    assignment_states.set_state(tenant, failed.id, sku, "Error", "CountViolation", group=group.id)
    lost = next(
        u
        for u in people
        if any(a.state == "Active" and not a.assigned_by_group for a in u.assignments)
    )
    lost_sku = next(a.sku_id for a in lost.assignments if not a.assigned_by_group)
    assignment_states.set_state(tenant, lost.id, lost_sku, "Error", "DependencyViolation")
    mutations.delete(tenant, gone.id, soft=True)
    _ok(runner, "sync", "--all")

    rows: list[dict[str, Any]] = json.loads(_ok(runner, "changes", "--format", "json"))
    by_user = {r["user_principal_name"]: r for r in rows}
    assert by_user[failed.user_principal_name]["kind"] == "assignment_state_changed"
    assert by_user[lost.user_principal_name]["kind"] == "licence_removed"
    assert by_user[gone.user_principal_name]["kind"] == "user_soft_deleted"
    assert "licence_added" not in {r["kind"] for r in rows}

    text = _ok(runner, "changes", "--format", "csv")
    described = {r["user_principal_name"]: r["detail"] for r in csv.DictReader(io.StringIO(text))}
    assert described[failed.user_principal_name] == (
        f"via group {group.display_name}, none → Error (CountViolation)"
    )
    assert described[lost.user_principal_name] == "direct, Active → Error (DependencyViolation)"
    assert "restorable" in described[gone.user_principal_name]
    only = json.loads(_ok(runner, "changes", "--kind", "user_soft_deleted", "--format", "json"))
    assert [r["user_principal_name"] for r in only] == [gone.user_principal_name]
