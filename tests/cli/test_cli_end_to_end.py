"""The CLI against the real emulator over TLS: onboard, test, sync, balance; failures with fixes."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from emulator_fixtures import EmulatorFactory
from licensewatch.cli import app
from licensewatch.emulator import mutations
from licensewatch.emulator.server import RunningEmulator
from licensewatch.emulator.state import Tenant
from licensewatch.emulator.truth import ground_truth

SKU_NUMBERS = ("enabled", "warning", "suspended", "locked_out", "consumed", "available")


class Cli:
    """Runs commands in-process; remembers every output so tests can check no secret leaked."""

    def __init__(self, emulator: RunningEmulator) -> None:
        self.runner = CliRunner()
        self.info: dict[str, Any] = emulator.info
        self.tenant: dict[str, Any] = self.info["tenants"][0]
        self.outputs: list[str] = []

    def __call__(self, *args: str, input: str | None = None) -> Result:
        result = self.runner.invoke(app, list(args), input=input)
        self.outputs.append(result.output)
        assert "Traceback" not in result.output, result.output
        return result

    def endpoints(self) -> list[str]:
        info = self.info
        return [
            "--authority-host", info["authority_host"], "--graph-endpoint", info["graph_endpoint"],
            "--ca-bundle", info["ca_bundle"],
        ]  # fmt: skip

    def add_secret(self, name: str, secret: str | None = None, tenant: str | None = None) -> Result:
        return self(
            "tenant", "add", name, "--tenant-id", tenant or self.tenant["domain"],
            "--client-id", self.tenant["client_id"], "--client-secret-stdin", *self.endpoints(),
            input=(secret or self.tenant["client_secret"]) + "\n",
        )  # fmt: skip

    def leaked(self) -> bool:
        secret = self.tenant["client_secret"]
        key = Path(self.tenant["private_key"]).read_text().splitlines()[1]
        return any(secret in out or key in out for out in self.outputs)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LICENSEWATCH_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("LICENSEWATCH_SECRET_KEY", raising=False)
    monkeypatch.delenv("LICENSEWATCH_DATABASE_URL", raising=False)
    return tmp_path / "home"


@pytest.fixture
def small(make_emulator: EmulatorFactory, home: Path) -> Iterator[Cli]:
    cli = Cli(make_emulator(users=30, seed=11))
    yield cli
    assert not cli.leaked()


def _world_tenant(emulator_cli: Cli, emulator: RunningEmulator) -> Tenant:
    return emulator.world.tenants[emulator_cli.tenant["tenant_id"]]


def assert_balance_matches_truth(rows: list[dict[str, Any]], tenant: Tenant) -> None:
    truth = {sku["sku_id"]: sku for sku in ground_truth(tenant)["skus"]}
    assert {row["sku_id"] for row in rows} == set(truth)
    for row in rows:
        expected = truth[row["sku_id"]]
        assert row["sku_part_number"] == expected["sku_part_number"]
        assert {k: row[k] for k in SKU_NUMBERS} == {k: expected[k] for k in SKU_NUMBERS}


def test_secret_onboarding_test_sync_and_balance(
    make_emulator: EmulatorFactory, home: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LICENSEWATCH_DATABASE_URL", database_url)
    emulator = make_emulator(scenario="enterprise", users=1200, seed=5)
    cli = Cli(emulator)
    assert cli.add_secret("contoso").exit_code == 0
    tested = cli("tenant", "test", "contoso")
    assert tested.exit_code == 0, tested.output
    assert "✓ Sign in to Entra ID" in tested.stdout
    assert "ready to sync" in tested.stdout
    synced = cli("sync", "contoso")
    assert synced.exit_code == 0, synced.output
    assert "✓ contoso: full sync: 1,200 users in 2 pages" in synced.stdout
    assert "users/s" in synced.stderr  # plain progress lines when not on a terminal
    rows = json.loads(cli("balance", "--format", "json").stdout)
    assert rows
    assert all(set(row) == set(rows[0]) for row in rows)
    assert_balance_matches_truth(rows, _world_tenant(cli, emulator))
    csv_lines = cli("balance", "--tenant", "contoso", "--format", "csv").stdout.splitlines()
    assert csv_lines[0].split(",") == list(rows[0])
    assert len(csv_lines) == len(rows) + 1
    table = cli("balance").stdout
    assert "Licence balance" in table
    assert "total" in table
    assert not cli.leaked()


def test_certificate_onboarding(small: Cli) -> None:
    tenant = small.tenant
    added = small(
        "tenant", "add", "cert", "--tenant-id", tenant["tenant_id"], "--client-id",
        tenant["client_id"], "--certificate", tenant["certificate"], "--private-key",
        tenant["private_key"], *small.endpoints(),
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert tenant["thumbprint"] in small("tenant", "show", "cert").stdout
    report = small("tenant", "test", "cert", "--format", "json")
    assert report.exit_code == 0, report.output
    data = json.loads(report.stdout)
    assert data["ok"] is True
    assert data["tenant_id"] == tenant["tenant_id"]


def test_wrong_secret(small: Cli) -> None:
    assert small.add_secret("t", secret="abC8Q~this.is.not.the.right.secret.value").exit_code == 0
    tested = small("tenant", "test", "t")
    assert tested.exit_code == 1
    assert "✗ Sign in to Entra ID" in tested.stdout
    assert "AADSTS7000215" in tested.stdout
    assert "not its Secret ID" in tested.stdout
    synced = small("sync", "t")
    assert synced.exit_code == 1
    assert "sync failed" in synced.stderr
    assert "fix:" in synced.stderr


def test_expired_secret(make_emulator: EmulatorFactory, home: Path) -> None:
    emulator = make_emulator(users=10, seed=12)
    cli = Cli(emulator)
    assert cli.add_secret("t").exit_code == 0
    mutations.expire_secret(_world_tenant(cli, emulator))
    tested = cli("tenant", "test", "t")
    assert tested.exit_code == 1
    assert "AADSTS7000222" in tested.stdout
    assert "fix:" in tested.stdout


def test_unknown_tenant(small: Cli) -> None:
    assert small.add_secret("t", tenant=str(uuid.uuid4())).exit_code == 0
    tested = small("tenant", "test", "t", "--format", "json")
    assert tested.exit_code == 1
    token = json.loads(tested.stdout)["checks"][0]
    assert token["status"] == "fail"
    assert "AADSTS90002" in token["detail"]
    assert "Directory (tenant) ID" in token["fix"]


def test_missing_admin_consent(make_emulator: EmulatorFactory, home: Path) -> None:
    emulator = make_emulator(users=10, seed=13)
    cli = Cli(emulator)
    assert cli.add_secret("t").exit_code == 0
    mutations.revoke_consent(_world_tenant(cli, emulator))
    tested = cli("tenant", "test", "t")
    assert tested.exit_code == 1
    assert "admin consent was not granted" in tested.stdout
    assert "Grant admin consent" in tested.stdout
    synced = cli("sync", "--all")
    assert synced.exit_code == 1
    assert "fix:" in synced.stderr


def test_key_rotation_keeps_the_tenant_working(small: Cli, home: Path) -> None:
    assert small.add_secret("t").exit_code == 0
    old_key = (home / "secret.key").read_bytes()
    assert small("key", "rotate").exit_code == 0
    assert (home / "secret.key").read_bytes() != old_key
    assert small("tenant", "test", "t").exit_code == 0


def test_over_assigned_rows_are_flagged(make_emulator: EmulatorFactory, home: Path) -> None:
    emulator = make_emulator(scenario="messy", users=60, seed=7)
    cli = Cli(emulator)
    assert cli.add_secret("messy").exit_code == 0
    assert cli("sync", "messy").exit_code == 0
    rows = json.loads(cli("balance", "--format", "json").stdout)
    assert_balance_matches_truth(rows, _world_tenant(cli, emulator))
    over = [row["sku_part_number"] for row in rows if row["over_assigned"]]
    assert "SPE_E3" in over
    assert "Over-assigned:" in cli("balance").stdout


def test_a_full_sync_shows_progress_against_the_last_user_count(small: Cli) -> None:
    assert small.add_secret("t").exit_code == 0
    first = small("sync", "t", "--mode", "full")
    assert first.exit_code == 0, first.output
    assert " of ~" not in first.stderr  # nothing to compare with yet
    users = json.loads(small("status", "--format", "json").stdout)[0]["users"]
    assert users > 0
    second = small("sync", "t", "--mode", "full")
    assert second.exit_code == 0, second.output
    assert f"t: users: 0 pages, 0 users of ~{users:,} (0%)" in second.stderr
    assert f"✓ t: full sync: {users:,} users in 1 page" in second.stdout
