"""A web app whose "Sign in with Microsoft" goes to the emulator's Entra ID; a browser's walk."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import Engine

from emulator_fixtures import EmulatorFactory
from licensewatch.emulator.server import RunningEmulator
from licensewatch.emulator.sso_setup import SsoSetup, add_sso_app
from licensewatch.emulator.state import Tenant
from licensewatch.graph.http import ssl_context
from licensewatch.services.accounts import create_account
from licensewatch.services.sso import SsoInput, SsoService
from licensewatch.services.tenants import SecretInput
from licensewatch.storage.database import make_engine
from licensewatch.storage.encrypted import keyring_for
from licensewatch.storage.models.accounts import Role
from licensewatch.web import create_app
from web_fixtures import make_settings
from web_server import serve_in_thread

HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
BREAK_GLASS_PASSWORD = "break-glass-password-1234"
VIEWER_PASSWORD = "local-viewer-password-1234"


@dataclass
class SsoStack:
    base_url: str
    emulator: RunningEmulator
    tenant: Tenant
    setup: SsoSetup
    engine: Engine
    service: SsoService
    home: Path  # the web app's settings folder (make_settings(home) gives its settings)

    def configure(self, **changes: object) -> None:
        values: dict[str, object] = {
            "tenant_id": self.tenant.tenant_id,
            "client_id": self.setup.client_id,
            "credential": SecretInput(self.setup.client_secret),
            "authority_host": self.emulator.base_url,
            "graph_endpoint": self.emulator.base_url,
            "ca_bundle": str(self.emulator.ca_bundle),
        }
        values.update(changes)
        self.service.configure(SsoInput(**values))  # type: ignore[arg-type]


@pytest.fixture
def sso(make_emulator: EmulatorFactory, tmp_path: Path) -> Iterator[SsoStack]:
    running = make_emulator(users=5)
    tenant = next(iter(running.world.tenants.values()))
    settings = make_settings(tmp_path)
    engine = make_engine(settings.database_url)
    create_account(engine, "breakglass", Role.ADMIN, BREAK_GLASS_PASSWORD)
    create_account(engine, "localviewer", Role.VIEWER, VIEWER_PASSWORD)
    app = create_app(settings, engine=engine)
    with serve_in_thread(app) as base_url:
        setup = add_sso_app(tenant, [f"{base_url}/auth/callback"])
        stack = SsoStack(
            base_url,
            running,
            tenant,
            setup,
            engine,
            SsoService(engine, keyring_for(engine, settings)),
            tmp_path,
        )
        stack.configure()
        yield stack
    engine.dispose()


def entra_client(stack: SsoStack) -> httpx.Client:
    """The browser's side at Entra: trusts the emulator's CA."""
    return httpx.Client(verify=ssl_context(str(stack.emulator.ca_bundle)), follow_redirects=False)


def sign_in_with_microsoft(
    app: httpx.Client, stack: SsoStack, person: str, *, password: str | None = None
) -> httpx.Response:
    """Walks the redirects a browser follows; returns the app's answer to the callback."""
    start = app.get("/auth/login", params={"next": "/tenants"}, follow_redirects=False)
    assert start.status_code == 302, start.text
    authorize = start.headers["location"]
    with entra_client(stack) as entra:
        form = entra.get(authorize)
        assert form.status_code == 200, form.text
        fields = {name: unescape(value) for name, value in HIDDEN.findall(form.text)}
        fields["login"] = stack.setup.people[person]
        fields["passwd"] = password or stack.setup.password
        answer = entra.post(authorize.split("?")[0], data=fields)
    if answer.status_code != 200 or "document.forms[0].submit()" not in answer.text:
        return answer
    # form_post: the browser posts Entra's answer cross-site, without the app's cookies.
    posted = {name: unescape(value) for name, value in HIDDEN.findall(answer.text)}
    with httpx.Client(base_url=stack.base_url) as cross_site:
        back = cross_site.post("/auth/callback", data=posted, follow_redirects=False)
    if back.status_code != 303:
        return back
    return app.get(back.headers["location"], follow_redirects=False)


def authorize_query(app: httpx.Client) -> dict[str, str]:
    start = app.get("/auth/login", follow_redirects=False)
    return {k: v[0] for k, v in parse_qs(urlsplit(start.headers["location"]).query).items()}
