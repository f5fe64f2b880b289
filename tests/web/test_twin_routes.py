"""Twin routes (web/twins.py): a page, its `.json` and its /api/v1 read answer from one declaration.

On a tenant synced from the emulator over TLS: every declared resource's `.json` body equals its
API body for the same query, the three routes take the same parameter names (the pages' old
names as aliases), and no /api/v1 GET route exists outside the declarations.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import AliasChoices, BaseModel

from database_fixtures import add_tenant
from emulator_fixtures import connect
from licensewatch.emulator.server import RunningEmulator
from licensewatch.intelligence.read_models.build import publish_read_models
from licensewatch.services.accounts import create_account, create_token
from licensewatch.settings import Settings
from licensewatch.storage.database import make_engine
from licensewatch.storage.models.accounts import Role
from licensewatch.sync.runner import run_sync
from licensewatch.web import create_app
from licensewatch.web.resources import RESOURCES
from licensewatch.web.twins import API_PREFIX, Resource, api_reads
from web_fixtures import SyncRecorder, sign_in
from web_seed import seed_plan
from web_server import serve_in_thread

PASSWORD = "twin-admin-password-123"
# Queries beyond the defaults, per resource: filters and paging the body must follow alike.
QUERIES: dict[str, list[dict[str, str]]] = {
    "get_users": [{"search": "a", "limit": "5"}, {"licensed": "yes", "limit": "3"}],
    "get_holders": [{"limit": "2"}],
    "get_runs": [{"limit": "1"}],
    "get_changes": [{"limit": "2"}],
    "get_savings": [{"action": "remove"}],
    "get_audit": [{"limit": "3"}],
    "get_catalog": [{"unknown": "true"}],
    "get_alerts": [{"limit": "5"}],
}


@dataclass
class Synced:
    app: FastAPI
    session: httpx.Client
    api: httpx.Client
    path: dict[str, str]


@pytest.fixture(scope="module")
def synced(emulator: RunningEmulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synced]:
    folder = tmp_path_factory.mktemp("twins")
    settings = Settings(home=folder / "home", database_url=f"sqlite:///{folder / 'twins.db'}")
    engine = make_engine(settings.database_url)
    tenant = next(iter(emulator.world.tenants.values()))
    pk = add_tenant(engine, tenant.domain, tenant.tenant_id)
    result = run_sync(engine, pk, connect(emulator, tenant), on_publish=publish_read_models)
    assert result.ok, result.error_message
    create_account(engine, "ada", Role.ADMIN, PASSWORD)
    token = create_token(engine, "ada", "twins")
    path = {
        "name": tenant.domain,
        "sku_id": sorted(tenant.products)[0],
        "user_id": next(user.id for _, user in tenant.iter_users_from(0)),
        "plan_id": str(seed_plan(engine, tenant.domain)),
    }
    app = create_app(settings, engine=engine, sync=SyncRecorder())
    headers = {"authorization": f"Bearer {token}"}
    with (
        serve_in_thread(app) as base_url,
        httpx.Client(base_url=base_url) as session,
        httpx.Client(base_url=base_url, headers=headers) as api,
    ):
        sign_in(session, "ada", PASSWORD)
        yield Synced(app, session, api, path)
    engine.dispose()


def _fill(path: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        path = path.replace("{" + key + "}", value)
    return path


def _twins() -> list[Resource[Any, Any]]:
    return [res for res in RESOURCES if res.page_path is not None]


@pytest.mark.parametrize("res", _twins(), ids=lambda res: res.name)
def test_the_json_twin_answers_as_the_api(synced: Synced, res: Resource[Any, Any]) -> None:
    assert res.page_path is not None
    assert res.json_path is not None
    for query in [{}, *QUERIES.get(res.name, [])]:
        api = synced.api.get(API_PREFIX + _fill(res.api_path, synced.path), params=query)
        twin = synced.session.get(_fill(res.json_path, synced.path), params=query)
        assert api.status_code == 200, (res.name, query, api.text)
        assert twin.status_code == 200, (res.name, query, twin.text)
        assert twin.headers["content-type"] == "application/json"
        assert twin.json() == api.json(), (res.name, query)
        page = synced.session.get(_fill(res.page_path, synced.path), params=query)
        assert page.status_code == 200, (res.name, query)
        assert page.headers["content-type"].startswith("text/html")


def test_the_pages_old_search_name_is_an_alias(synced: Synced) -> None:
    product = _fill("/tenants/{name}/products/{sku_id}", synced.path)
    for path in ("/users", product):
        old = synced.session.get(path + ".json", params={"q": "a"}).json()
        new = synced.session.get(path + ".json", params={"search": "a"}).json()
        everyone = synced.session.get(path + ".json").json()
        assert old == new != everyone, path
        page = synced.session.get(path, params={"q": "a"})
        assert page.text == synced.session.get(path, params={"search": "a"}).text, path
        assert 'name="search"' in page.text  # the form and its links send the new name
    api = synced.api.get("/api/v1/users", params={"q": "a"}).json()
    assert api == synced.api.get("/api/v1/users", params={"search": "a"}).json()


def _query_fields(dependant: Dependant) -> Iterator[Any]:
    yield from dependant.query_params
    for sub in dependant.dependencies:
        yield from _query_fields(sub)


def _query_names(route: APIRoute) -> set[str]:
    names: set[str] = set()
    for field in _query_fields(route.dependant):
        model = field.field_info.annotation
        if isinstance(model, type) and issubclass(model, BaseModel):
            for name, info in model.model_fields.items():
                alias = info.validation_alias
                choices = alias.choices if isinstance(alias, AliasChoices) else [name]
                names |= {str(choice) for choice in choices}
        else:
            names.add(field.alias)
    return names


def _get_routes(app: FastAPI) -> dict[str, APIRoute]:
    """Every GET route by its full path (included routers' prefixes applied)."""
    found = {}
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and "GET" in (context.methods or ()) and context.path:
            found[context.path] = route
    return found


@pytest.mark.parametrize("res", _twins(), ids=lambda res: res.name)
def test_the_three_routes_take_the_same_parameters(synced: Synced, res: Resource[Any, Any]) -> None:
    routes = _get_routes(synced.app)
    assert res.page_path is not None
    assert res.json_path is not None
    page, twin = routes[res.page_path], routes[res.json_path]
    api = routes[API_PREFIX + res.api_path]
    assert _query_names(page) == _query_names(twin) == _query_names(api)
    assert {p.name for p in page.dependant.path_params} == {
        p.name for p in api.dependant.path_params
    }


def test_every_api_read_is_declared(synced: Synced) -> None:
    declared = api_reads(RESOURCES)
    served = {path for path in _get_routes(synced.app) if path.startswith(API_PREFIX + "/")}
    assert sorted(served - declared) == []  # an /api/v1 GET route outside web/resources
    assert sorted(declared - served) == []
    documented = synced.app.openapi()["paths"]
    assert {p for p in documented if "get" in documented[p]} >= declared


def test_a_twin_needs_a_session_not_a_token(synced: Synced) -> None:
    token = synced.api.headers["authorization"]
    with httpx.Client(base_url=str(synced.api.base_url)) as client:
        answer = client.get("/users.json", headers={"authorization": token})
    assert answer.status_code == 401  # a token reads /api/v1; pages and twins are for sessions
    assert answer.headers["content-type"] == "application/json"
