"""Change plan tests: an emulated office with a licensed group, the CLI on a chosen database."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner, Result

from emulator_fixtures import EmulatorFactory
from licensewatch.cli import app
from licensewatch.domain.plans import WRITE_ROLE
from licensewatch.emulator import mutations
from licensewatch.emulator.server import RunningEmulator
from licensewatch.emulator.state import Tenant
from licensewatch.graph.connection import GraphConnection

STANDARD = "O365_BUSINESS_PREMIUM"  # Microsoft 365 Business Standard
BASIC = "O365_BUSINESS_ESSENTIALS"  # Microsoft 365 Business Basic


@dataclass
class PlanWorld:
    """The emulator, its tenant, the CLI (in process) and the people a plan is about."""

    emulator: RunningEmulator
    tenant: Tenant
    info: dict[str, Any]
    runner: CliRunner
    home: Path
    name: str = "office"

    def cli(self, *args: str, input: str | None = None) -> Result:
        result = self.runner.invoke(app, list(args), input=input)
        assert "Traceback" not in result.output, result.output
        return result

    def ok(self, *args: str, input: str | None = None) -> str:
        result = self.cli(*args, input=input)
        assert result.exit_code == 0, result.output
        return result.output

    def create(self, *args: str) -> int:
        """`plan create ARGS`: the id printed on stdout (a warning may follow on stderr)."""
        result = self.cli("plan", "create", *args)
        assert result.exit_code == 0, result.output
        return int(result.stdout.strip())

    def onboard(self) -> None:
        info = self.info
        self.ok(
            "tenant", "add", self.name, "--tenant-id", info["domain"], "--client-id",
            info["client_id"], "--client-secret-stdin", "--authority-host",
            self.emulator.info["authority_host"], "--graph-endpoint",
            self.emulator.info["graph_endpoint"], "--ca-bundle", self.emulator.info["ca_bundle"],
            input=info["client_secret"] + "\n",
        )  # fmt: skip
        self.ok("sync", self.name, "--mode", "full")

    def grant_writes(self) -> None:
        mutations.grant_consent(self.tenant, [WRITE_ROLE], self.info["client_id"])

    def users_file(self, upns: list[str]) -> Path:
        path = self.home / "users.txt"
        path.write_text("# people\n" + "\n".join(upns) + "\n")
        return path

    def plan(self, plan_id: int) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.ok("plan", "show", str(plan_id), "--format", "json"))
        return data

    def direct_holders(self, part: str, *, disabled: bool | None = None) -> list[str]:
        sku = mutations.resolve_sku(self.tenant, part).sku_id
        found = []
        for _, user in self.tenant.iter_users_from(0):
            direct = [a for a in user.assignments if a.sku_id == sku and not a.assigned_by_group]
            if direct and (disabled is None or bool(direct[0].disabled_plans) == disabled):
                found.append(user.user_principal_name)
        return sorted(found)

    def tenant_pk(self, engine: Engine) -> int:
        from licensewatch.services.tenants import TenantService

        return TenantService(engine).show(self.name).id

    def connection(self, engine: Engine) -> GraphConnection:
        from licensewatch.services.tenants import TenantService

        return TenantService(engine).connection_for(self.name)

    def holds(self, upn: str, part: str) -> tuple[str, ...] | None:
        """The disabled plans of the user's direct assignment of `part`, None without one."""
        sku = mutations.resolve_sku(self.tenant, part).sku_id
        user = self.tenant.user(upn)
        assert user is not None
        for a in user.assignments:
            if a.sku_id == sku and a.assigned_by_group is None:
                return a.disabled_plans
        return None


def start_world(
    make_emulator: EmulatorFactory, database_url: str, tmp_path: Path, mp: pytest.MonkeyPatch
) -> PlanWorld:
    """An office of 30 (Business Standard and Basic), plus group 'Sales' handing out Basic."""
    home = tmp_path / "home"
    mp.setenv("LICENSEWATCH_HOME", str(home))
    mp.setenv("LICENSEWATCH_DATABASE_URL", database_url)
    mp.delenv("LICENSEWATCH_SECRET_KEY", raising=False)
    emulator = make_emulator(users=30, seed=11)
    info = emulator.info["tenants"][0]
    tenant = emulator.world.tenants[info["tenant_id"]]
    basic = mutations.resolve_sku(tenant, BASIC).sku_id
    group = next(iter(tenant.groups.values()))
    group.display_name = "Sales"
    group.assigned_licenses.append((basic, ()))
    mutations.set_units(tenant, BASIC, 40)
    return PlanWorld(emulator, tenant, info, CliRunner(), home)
