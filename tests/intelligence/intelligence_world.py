"""Intelligence test helpers: sync an emulated tenant over TLS and compute expected findings."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine

from database_fixtures import add_tenant
from emulator_fixtures import EmulatorFactory, connect
from licensewatch.emulator.seed import build_world
from licensewatch.emulator.server import RunningEmulator
from licensewatch.emulator.state import ASSIGNED_STATES, Tenant, User
from licensewatch.graph.client import GraphClient
from licensewatch.graph.connection import GraphConnection
from licensewatch.graph.retry import RetryPolicy
from licensewatch.intelligence.builtin_names import FREE_PART_NUMBERS, builtin_name
from licensewatch.sync.runner import SyncResult, run_sync

# Prices the tests set: part number → (amount, currency, term); others stay without a price.
PRICES = {
    "SPE_E3": ("36.00", "EUR", "monthly"),
    "SPE_E5": ("684.00", "EUR", "annual"),
    "ENTERPRISEPACK": ("23.00", "EUR", "monthly"),
    "O365_BUSINESS_ESSENTIALS": ("6.00", "USD", "monthly"),
    "POWER_BI_PRO": ("12.00", "EUR", "monthly"),
}


def monthly(part: str) -> tuple[Decimal, str] | None:
    if part not in PRICES:
        return None
    amount, currency, term = PRICES[part]
    value = Decimal(amount)
    return (value if term == "monthly" else value / 12), currency


@dataclass
class Synced:
    """An emulator, its one tenant and the database tenant a real sync filled."""

    emulator: RunningEmulator
    tenant: Tenant
    tenant_pk: int
    result: SyncResult


def _client(connection: GraphConnection) -> GraphClient:
    return GraphClient(connection, retry=RetryPolicy(max_attempts=3, sleep=lambda _s: None))


def sync(engine: Engine, emulator: RunningEmulator, tenant: Tenant, tenant_pk: int) -> SyncResult:
    """A real full sync over TLS; fails the test when the sync fails."""
    result = run_sync(engine, tenant_pk, connect(emulator, tenant), client_factory=_client)
    assert result.ok, result.error_message
    return result


def start_and_sync(
    make_emulator: EmulatorFactory,
    engine: Engine,
    cert_dir: Path,
    *,
    scenario: str = "messy",
    users: int = 60,
    seed: int = 1,
    sign_in: bool = False,
) -> Synced:
    """One seeded tenant (sign-in data granted or not), registered and synced."""
    world = build_world(tenants=1, users=users, seed=seed, scenario=scenario, cert_dir=cert_dir)
    tenant = next(iter(world.tenants.values()))
    if sign_in:
        for app in tenant.apps.values():
            app.roles.add("AuditLog.Read.All")
    emulator = make_emulator(world)
    tenant_pk = add_tenant(engine, tenant.domain, tenant.tenant_id)
    return Synced(emulator, tenant, tenant_pk, sync(engine, emulator, tenant, tenant_pk))


# ---- expected results, computed from the emulator's model (never through Graph) --------------


def users(tenant: Tenant) -> list[User]:
    return [u for _, u in tenant.iter_users_from(0)]


def held(user: User) -> set[str]:
    return {a.sku_id for a in user.assignments if a.state in ASSIGNED_STATES}


def part(tenant: Tenant, sku_id: str) -> str:
    return tenant.products[sku_id].part_number


def name(tenant: Tenant, sku_id: str) -> str:
    p = part(tenant, sku_id)
    return builtin_name(p) or p


def cost(tenant: Tenant, items: Iterable[tuple[str, int]]) -> tuple[dict[str, Decimal], set[str]]:
    """Monthly amounts per currency (rounded to cents) and unpriced names of (sku_id, units)."""
    amounts: dict[str, Decimal] = {}
    unpriced: set[str] = set()
    for sku_id, units in items:
        if units <= 0:
            continue
        price = monthly(part(tenant, sku_id))
        if price is None and part(tenant, sku_id) in FREE_PART_NUMBERS:
            continue  # a free product costs 0: never "no price"
        if price is None:
            unpriced.add(name(tenant, sku_id))
        else:
            amounts[price[1]] = amounts.get(price[1], Decimal(0)) + price[0] * units
    return {c: a.quantize(Decimal("0.01")) for c, a in sorted(amounts.items())}, unpriced


def user_plans(tenant: Tenant, sku_id: str) -> set[str]:
    return {p.plan_id for p in tenant.products[sku_id].service_plans if p.applies_to != "Company"}


def contained(tenant: Tenant) -> set[tuple[str, str]]:
    """(covered, covering) SKU pairs: every user plan of the first is in the second."""
    pairs = {
        (a, b)
        for a in tenant.products
        for b in tenant.products
        if a != b and user_plans(tenant, a) and user_plans(tenant, a) <= user_plans(tenant, b)
    }
    return {(a, b) for a, b in pairs if not ((b, a) in pairs and a > b)}


def last_activity(user: User) -> list[datetime]:
    s = user.sign_in
    if s is None:
        return []
    values = (s.last_sign_in, s.last_non_interactive_sign_in, s.last_successful_sign_in)
    return [v.replace(microsecond=0) for v in values if v is not None]


def inactive(user: User, now: datetime, days: int) -> bool:
    seen = last_activity(user)
    return bool(seen) and all(v < now - timedelta(days=days) for v in seen)
