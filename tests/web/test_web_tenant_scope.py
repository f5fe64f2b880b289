"""Tenant scope over every route: a viewer limited to contoso never sees fabrikam's data."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from sqlalchemy import Engine, select
from test_web_access import ADMIN_API_READS, ADMIN_PAGES, PARAMS, PUBLIC

from licensewatch.services.accounts import (
    AccountError,
    create_account,
    create_token,
    set_tenant_scope,
)
from licensewatch.storage.database import make_engine, session_scope
from licensewatch.storage.models import ChangeKind, LicenceChange, SyncRun, Tenant, utcnow
from licensewatch.storage.models.accounts import Role
from licensewatch.web import create_app
from web_fixtures import SyncRecorder, add_contoso, make_settings, sign_in
from web_seed import E3, seed_inventory
from web_server import serve_in_thread

PASSWORD = "scoped-viewer-password-123"
HIDDEN = "fabrikam"


@dataclass
class Scoped:
    app: FastAPI
    base_url: str
    engine: Engine
    token: str


@pytest.fixture(scope="module")
def scoped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scoped]:
    settings = make_settings(tmp_path_factory.mktemp("scope"))
    engine = make_engine(settings.database_url)
    for name in ("contoso", HIDDEN):
        add_contoso(engine, settings, name)
        seed_inventory(engine, name)
        _record_a_change(engine, name)
    create_account(engine, "carol", Role.VIEWER, PASSWORD)
    set_tenant_scope(engine, "carol", ["contoso"])
    app = create_app(settings, engine=engine, sync=SyncRecorder())
    with serve_in_thread(app) as base_url:
        yield Scoped(app, base_url, engine, create_token(engine, "carol", "scoped"))
    engine.dispose()


def _record_a_change(engine: Engine, tenant: str) -> None:
    """A licence change in each tenant: history pages, CSV and API must show only the visible."""
    with session_scope(engine) as session:
        row = session.scalars(select(Tenant).where(Tenant.name == tenant)).one()
        run = session.scalars(select(SyncRun.id).where(SyncRun.tenant_id == row.id)).first()
        assert run is not None
        session.add(
            LicenceChange(
                tenant_id=row.id,
                run_id=run,
                occurred_at=utcnow(),
                kind=ChangeKind.LICENCE_ADDED.value,
                user_principal_name=f"someone@{tenant}.example",
                sku_id=E3,
            )
        )


def _reads(app: FastAPI) -> list[str]:
    paths = []
    for route in iter_route_contexts(app.routes):
        path = route.path
        methods = route.methods or {"GET"}
        if path is None or "GET" not in methods or path in PUBLIC:
            continue
        if path in ADMIN_PAGES | ADMIN_API_READS:
            continue
        paths.append(path)
    return paths


def _url(path: str, tenant: str) -> str:
    for key, value in {**PARAMS, "{name}": tenant}.items():
        path = path.replace(key, value)
    return path


def _check_everything(client: httpx.Client, paths: list[str]) -> int:
    checked = 0
    for path in paths:
        if path.startswith("/api/") != ("authorization" in client.headers):
            continue
        if "{name}" in path:
            assert client.get(_url(path, "contoso"), follow_redirects=True).status_code == 200, path
            hidden = client.get(_url(path, HIDDEN), follow_redirects=True)
            assert hidden.status_code == 404, (path, hidden.status_code)
        else:
            for query in ("", f"?tenant={HIDDEN}"):
                response = client.get(_url(path, "contoso") + query, follow_redirects=True)
                if response.status_code == 404:
                    continue  # "no such tenant": the hidden one does not exist for this caller
                assert response.status_code == 200, (path, query, response.status_code)
                assert HIDDEN not in response.text.lower(), (path, query)
        checked += 1
    return checked


def test_a_scoped_viewer_sees_only_its_tenants_on_every_page(scoped: Scoped) -> None:
    with httpx.Client(base_url=scoped.base_url) as client:
        sign_in(client, "carol", PASSWORD)
        assert _check_everything(client, _reads(scoped.app)) >= 12


def test_a_scoped_viewers_token_sees_only_its_tenants_in_the_api(scoped: Scoped) -> None:
    headers = {"authorization": f"Bearer {scoped.token}"}
    with httpx.Client(base_url=scoped.base_url, headers=headers) as client:
        assert _check_everything(client, _reads(scoped.app)) > 10
        balance = client.get("/api/v1/balance").json()
        assert {row["tenant"] for row in balance["rows"]} == {"contoso"}
        changes = client.get("/api/v1/changes").json()["items"]
        assert {change["tenant"] for change in changes} == {"contoso"}


def test_scope_is_for_viewers_and_known_tenants_only(scoped: Scoped) -> None:
    create_account(scoped.engine, "ada", Role.ADMIN, PASSWORD)
    with pytest.raises(AccountError, match="administrators see every tenant"):
        set_tenant_scope(scoped.engine, "ada", ["contoso"])
    with pytest.raises(AccountError, match="no tenant named 'tailspin'"):
        set_tenant_scope(scoped.engine, "carol", ["tailspin"])
