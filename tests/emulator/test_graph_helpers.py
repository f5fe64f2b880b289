"""Builders for the Graph emulator tests: a hand-made tenant, a real token issuer, a client."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import httpx
from starlette.applications import Starlette

from licensewatch.emulator.apps import App
from licensewatch.emulator.faults import FaultInjector
from licensewatch.emulator.graph.routes import graph_routes
from licensewatch.emulator.options import EmulatorOptions
from licensewatch.emulator.state import (
    Group,
    LicenseAssignment,
    Product,
    ServicePlan,
    SignInActivity,
    Subscription,
    Tenant,
    User,
    World,
)
from licensewatch.emulator.tokens import TokenIssuer

E3 = "6fd2c87f-b296-42f0-b197-1e91e994b900"
E5 = "c7df2760-2c81-4ef7-b578-5b5392b571df"
EXCHANGE = "efb87545-963c-4e0d-99df-69c6916d9eb0"
TEAMS = "57ff2da0-773e-42df-b2af-ffb7a2317929"
READER_ROLES = frozenset({"User.Read.All", "Directory.Read.All"})
ITAM_SELECT = (
    "id,userPrincipalName,displayName,mail,accountEnabled,department,jobTitle,usageLocation,"
    "country,createdDateTime,userType,assignedLicenses,licenseAssignmentStates"
)
# UPN stems that stress ordering and case folding: digits, '_', non-ASCII, mixed case.
ODD_STEMS = (
    "0zero",
    "9nine",
    "_under",
    "Ærø",
    "élodie",
    "ñandú",
    "Zoë",
    "ßtraße",
    "Ωmega",
    "adele",
)


def guid(n: int, kind: str = "u") -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{kind}{n}"))


def make_tenant(users: int = 30, *, premium: bool = True, name: str = "contoso") -> Tenant:
    """A tenant whose users cover members and #EXT# guests, odd UPNs, direct and group licences."""
    now = datetime.now(UTC)
    tenant = Tenant(guid(0, name), f"{name}.onmicrosoft.com", f"{name.title()} Ltd", premium)
    tenant.products[E3] = Product(
        E3, "ENTERPRISEPACK", "Office 365 E3", (ServicePlan(EXCHANGE, "EXCHANGE_S_ENTERPRISE"),)
    )
    tenant.products[E5] = Product(
        E5,
        "ENTERPRISEPREMIUM",
        "Office 365 E5",
        (
            ServicePlan(EXCHANGE, "EXCHANGE_S_ENTERPRISE"),
            ServicePlan(TEAMS, "TEAMS1", "User", "Teams"),
        ),
    )
    for n, (sku, status, total) in enumerate(((E3, "Enabled", 25), (E5, "Warning", 10))):
        tenant.subscriptions.append(
            Subscription(guid(n, "s"), guid(n, "c"), sku, status, total, False, now, None)
        )
    group = Group(guid(1, "g"), "E5 users", "e5-users", [(E5, (TEAMS,))])
    tenant.groups[group.id] = group
    tenant.groups[guid(2, "g")] = Group(guid(2, "g"), "All Staff", "allstaff")
    tenant.apps["app"] = App("app", "collector", roles=set(READER_ROLES))
    for n in range(users):
        add_person(tenant, n, group)
    return tenant


def add_person(tenant: Tenant, n: int, group: Group | None = None) -> User:
    stem = f"{ODD_STEMS[n % len(ODD_STEMS)]}{n}"
    guest = n % 7 == 3
    upn = f"{stem}_fabrikam.com#EXT#@{tenant.domain}" if guest else f"{stem}@{tenant.domain}"
    user = User(
        guid(n, tenant.domain),
        upn,
        stem.title(),
        mail=f"{stem}@fabrikam.com" if guest else upn,
        account_enabled=n % 5 != 0,
        user_type="Guest" if guest else "Member",
        department="Sales" if n % 2 else "IT",
        created=datetime(2021, 3, 4, 17, 12, 25, tzinfo=UTC) + timedelta(days=n),
        sign_in=SignInActivity(datetime(2024, 1, 1, tzinfo=UTC), None, None) if n % 3 else None,
    )
    tenant.add_user(user)
    if n % 3 == 0:
        tenant.assign(user.id, LicenseAssignment(E3, None))
    if n % 4 == 1 and group is not None:
        tenant.assign(user.id, LicenseAssignment(E5, group.id, (TEAMS,)))
        group.member_ids.append(user.id)
    return user


class InProcess(httpx.BaseTransport):
    """A synchronous transport into the ASGI app (each request runs on a fresh event loop)."""

    def __init__(self, app: Starlette) -> None:
        self.inner = httpx.ASGITransport(app=app)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        async def run() -> httpx.Response:
            response = await self.inner.handle_async_request(request)
            body = await response.aread()
            return httpx.Response(response.status_code, headers=response.headers, content=body)

        return anyio.run(run)


@dataclass
class Env:
    world: World
    tenant: Tenant
    issuer: TokenIssuer
    injector: FaultInjector
    app: Starlette
    client: httpx.Client
    tokens: dict[frozenset[str], str] = field(default_factory=dict)

    def token(self, roles: frozenset[str] = READER_ROLES, tenant: Tenant | None = None) -> str:
        key = roles | {f"tenant:{(tenant or self.tenant).tenant_id}"}
        if key not in self.tokens:
            target = tenant or self.tenant
            app = App(f"app-{len(self.tokens)}", "collector", roles=set(roles))
            target.apps[app.client_id] = app
            self.tokens[key] = self.issuer.issue(target, app, "https://graph.microsoft.com")[0]
        return self.tokens[key]

    def get(
        self,
        url: str,
        roles: frozenset[str] = READER_ROLES,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        all_headers = {"Authorization": f"Bearer {self.token(roles)}", **(headers or {})}
        return self.client.get(url, headers=all_headers)

    def pages(self, url: str, headers: dict[str, str] | None = None) -> Iterator[dict[str, Any]]:
        """Every page of a collection, following nextLinks."""
        next_url: str | None = url
        while next_url:
            response = self.get(next_url, headers=headers)
            assert response.status_code == 200, response.text
            page: dict[str, Any] = response.json()
            yield page
            next_url = page.get("@odata.nextLink")


def make_env(tenant: Tenant | None = None, **options: Any) -> Env:
    world = World()
    tenant = world.add_tenant(tenant or make_tenant())
    opts = EmulatorOptions(**options)
    issuer, injector = TokenIssuer(world), FaultInjector(opts)
    app = Starlette(routes=graph_routes(world, issuer, injector, opts))
    client = httpx.Client(transport=InProcess(app), base_url="https://graph.test")
    return Env(world, tenant, issuer, injector, app, client)


def all_values(env: Env, url: str, headers: dict[str, str] | None = None) -> list[dict[str, Any]]:
    return [user for page in env.pages(url, headers) for user in page["value"]]
