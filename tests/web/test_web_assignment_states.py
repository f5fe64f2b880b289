"""Web API after a real sync over TLS: an assignment in Error or Disabled is not a held licence."""

from __future__ import annotations

from pathlib import Path

import httpx
from sqlalchemy import Engine

from database_fixtures import add_tenant
from emulator_fixtures import EmulatorFactory, connect
from licensewatch.emulator import assignment_states
from licensewatch.emulator.seed import build_world
from licensewatch.emulator.state import ASSIGNED_STATES
from licensewatch.services.accounts import create_account, create_token
from licensewatch.settings import Settings
from licensewatch.storage.models.accounts import Role
from licensewatch.sync.runner import run_sync
from licensewatch.web import create_app
from web_fixtures import SyncRecorder
from web_server import serve_in_thread


def test_users_api_lists_only_held_licences(
    make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path
) -> None:
    world = build_world(tenants=1, users=40, seed=5, scenario="messy", cert_dir=tmp_path)
    tenant = next(iter(world.tenants.values()))
    emulator = make_emulator(world)
    people = [u for _, u in tenant.iter_users_from(0) if not u.assignments]
    sku = sorted(tenant.products)[0]
    switched_off, failed = people[:2]
    assignment_states.set_state(tenant, switched_off.id, sku, "Disabled")
    assignment_states.set_state(tenant, failed.id, sku, "Error", "CountViolation")
    pk = add_tenant(engine, tenant.domain, tenant.tenant_id)
    result = run_sync(engine, pk, connect(emulator, tenant))
    assert result.ok, result.error_message

    create_account(engine, "alice", Role.VIEWER, "viewer-password-123456")
    token = create_token(engine, "alice", "tests")
    settings = Settings(home=tmp_path / "home", database_url=str(engine.url))
    app = create_app(settings, engine=engine, sync=SyncRecorder())
    headers = {"authorization": f"Bearer {token}"}
    with serve_in_thread(app) as base_url, httpx.Client(base_url=base_url, headers=headers) as web:

        def upns(**params: str) -> set[str]:
            found: set[str] = set()
            offset = 0
            while True:
                page = web.get("/api/v1/users", params={**params, "offset": str(offset)})
                assert page.status_code == 200, page.text
                body = page.json()
                found |= {row["user_principal_name"] for row in body["items"]}
                if not body.get("has_more"):
                    return found
                offset += len(body["items"])

        holders = {
            u.user_principal_name
            for _, u in tenant.iter_users_from(0)
            if any(a.state in ASSIGNED_STATES for a in u.assignments)
        }
        assert upns(licensed="yes") == holders
        assert {switched_off.user_principal_name, failed.user_principal_name} <= upns(licensed="no")
        assert switched_off.user_principal_name not in upns(sku_id=sku)
        detail = web.get(f"/api/v1/tenants/{tenant.domain}/users/{failed.id}").json()
        assert detail["user"]["licences"] == []
        assert [(lic["state"], lic["error"]) for lic in detail["licences"]] == [
            ("Error", "CountViolation")
        ]
        app.state.lw.launcher.join(5)
