"""Fixtures of the web tests: an app over a real SQLite file, accounts, signed-in clients."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine

from licensewatch.security.crypto import load_keyring
from licensewatch.services.accounts import create_account, create_token
from licensewatch.services.tenants import SecretInput, TenantService, TenantSettings
from licensewatch.settings import Settings
from licensewatch.storage.database import make_engine
from licensewatch.storage.models.accounts import Role
from licensewatch.web import create_app
from web_seed import seed_inventory, seed_plan
from web_server import serve_in_thread

SECRET_VALUE = "Zq8~TopSecretValue.ForTests_1234567890abc"
ADMIN_PASSWORD = "admin-password-123456"
VIEWER_PASSWORD = "viewer-password-123456"
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class SyncRecorder:
    """Stands in for the sync engine in route tests (the sync engine has tests of its own)."""

    calls: list[str] = field(default_factory=list)

    def __call__(self, engine: Engine, settings: Settings, tenant: str) -> None:
        self.calls.append(tenant)


@dataclass
class WebEnv:
    app: FastAPI
    base_url: str
    engine: Engine
    settings: Settings
    syncs: SyncRecorder
    admin_token: str
    viewer_token: str


def make_settings(directory: Path) -> Settings:
    return Settings(home=directory / "home", database_url=f"sqlite:///{directory / 'web.db'}")


def add_contoso(engine: Engine, settings: Settings, name: str = "contoso") -> None:
    TenantService(engine, load_keyring(settings)).add(
        TenantSettings(
            name=name,
            tenant_id=f"{name}.onmicrosoft.com",
            client_id="3f2b9c7e-1a2b-4c3d-8e9f-0a1b2c3d4e5f",
            credential=SecretInput(SECRET_VALUE),
        )
    )


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebEnv]:
    """One app per test module (setting up argon2 accounts and migrations is not free)."""
    web_settings = make_settings(tmp_path_factory.mktemp("web"))
    engine = make_engine(web_settings.database_url)
    add_contoso(engine, web_settings)
    seed_inventory(engine, "contoso")
    seed_plan(engine, "contoso")
    create_account(engine, "alice", Role.ADMIN, ADMIN_PASSWORD)
    create_account(engine, "victor", Role.VIEWER, VIEWER_PASSWORD)
    syncs = SyncRecorder()
    app = create_app(web_settings, engine=engine, sync=syncs)
    with serve_in_thread(app) as base_url:
        yield WebEnv(
            app=app,
            base_url=base_url,
            engine=engine,
            settings=web_settings,
            syncs=syncs,
            admin_token=create_token(engine, "alice", "tests"),
            viewer_token=create_token(engine, "victor", "tests"),
        )
        app.state.lw.launcher.join(5)
    engine.dispose()


def sign_in(client: httpx.Client, username: str, password: str) -> str:
    """Signs in through the form; returns the page's CSRF token."""
    form = client.get("/login")
    token = CSRF_INPUT.search(form.text)
    assert token is not None
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    page = client.get("/")
    found = CSRF_INPUT.search(page.text)
    assert found is not None
    return found.group(1)


@pytest.fixture
def anonymous(web: WebEnv) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=web.base_url) as client:
        yield client


@pytest.fixture
def admin(web: WebEnv) -> Iterator[tuple[httpx.Client, str]]:
    with httpx.Client(base_url=web.base_url) as client:
        yield client, sign_in(client, "alice", ADMIN_PASSWORD)


@pytest.fixture
def viewer(web: WebEnv) -> Iterator[tuple[httpx.Client, str]]:
    with httpx.Client(base_url=web.base_url) as client:
        yield client, sign_in(client, "victor", VIEWER_PASSWORD)
