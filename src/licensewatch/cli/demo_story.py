"""The demo's story: demo prices, and 90 days of history from real syncs of emulator changes.

Honest by construction: every change in the history was made in the emulator and seen by a real
sync (full first, then delta); only the timestamps of those runs are moved back, so the 90 days
take seconds. Back-dated changes carry a note saying so, and the prices carry a note that they are
the demo's.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Engine, select, update

from licensewatch.emulator import mutations
from licensewatch.emulator.state import Product, SignInActivity, User
from licensewatch.emulator.state import Tenant as EmulatedTenant
from licensewatch.intelligence.builtin_names import FREE_PART_NUMBERS
from licensewatch.intelligence.price_note import set_price_note
from licensewatch.intelligence.prices import load_prices, set_price
from licensewatch.intelligence.read_models.build import refresh_read_models
from licensewatch.intelligence.renewal_growth_store import resum_growth
from licensewatch.storage.database import session_scope, write_transaction
from licensewatch.storage.models import LicenceChange, Sku, SkuSnapshot, SyncRun
from licensewatch.sync.runner import Mode, SyncResult

DAYS = 90
STEPS = 9  # syncs after the first one: one every nine days
HISTORY_NOTE = (
    "Demo history: a real sync of changes made in the emulator, back-dated by licensewatch demo."
)
PRICE_NOTE = (
    "demo prices set by licensewatch demo (EUR per month, not Microsoft's or your contract's); "
    "set your own on the Catalogue page."
)
# Round demo figures per month in EUR; free (viral) SKUs cost 0 without a price.
DEMO_PRICES: dict[str, str] = {
    "SPE_E3": "36.00",
    "SPE_E5": "57.00",
    "ENTERPRISEPACK": "23.00",
    "ENTERPRISEPREMIUM": "38.00",
    "O365_BUSINESS_ESSENTIALS": "6.00",
    "O365_BUSINESS_PREMIUM": "12.50",
    "SPB": "22.00",
    "POWER_BI_PRO": "14.00",
    "VISIOCLIENT": "15.00",
    "PROJECTPROFESSIONAL": "30.00",
    "EMSPREMIUM": "16.00",
    "EMS": "10.00",
    "Microsoft_Intune_Suite": "10.00",
    "AAD_PREMIUM": "6.00",
    "AAD_PREMIUM_P2": "9.00",
    "Microsoft_Teams_Exploratory_Dept": "0.00",
}
_NAMES = ("Avery", "Blake", "Casey", "Devon", "Emery", "Finley", "Harper", "Jordan", "Kendall")
_SURNAMES = ("Nguyen", "Okafor", "Schmidt", "Rossi", "Tanaka", "Silva", "Larsen", "Dubois")
_NAMESPACE = uuid.UUID("0b5f2c1e-8d3a-4f6b-9e7c-1a2b3c4d5e6f")
SyncStep = Callable[[Mode], SyncResult]


def set_demo_prices(engine: Engine) -> int:
    """Demo prices for the products the tenants have and that have no price yet; the note."""
    with session_scope(engine, write=False) as session:
        seen = {part: sku for part, sku in session.execute(select(Sku.sku_part_number, Sku.sku_id))}
        priced = set(load_prices(session))
    count = 0
    for part, amount in DEMO_PRICES.items():
        if part in seen and seen[part] not in priced:
            set_price(engine, seen[part], amount, "EUR", "monthly")
            count += 1
    set_price_note(engine, PRICE_NOTE)
    refresh_read_models(engine)  # findings and costs show the demo prices at once
    return count


def backdate(engine: Engine, run_id: int, when: datetime) -> None:
    """Move one run, its unit snapshots and its changes to `when`; label the changes."""
    with write_transaction(engine) as db:
        run = db.execute(
            select(SyncRun.started_at, SyncRun.finished_at).where(SyncRun.id == run_id)
        )
        started, finished = run.one()
        took = (finished - started) if finished and started else timedelta(0)
        db.execute(
            update(SyncRun)
            .where(SyncRun.id == run_id)
            .values(started_at=when - took, finished_at=when, heartbeat_at=when)
        )
        db.execute(update(SkuSnapshot).where(SkuSnapshot.run_id == run_id).values(captured_at=when))
        # Snapshots moved back in time: their growth days are summed again, every one.
        tenant_pk = db.scalar(select(SyncRun.tenant_id).where(SyncRun.id == run_id))
        if tenant_pk is not None:
            resum_growth(db, tenant_pk)
        db.execute(
            update(LicenceChange)
            .where(LicenceChange.run_id == run_id)
            .values(occurred_at=when, note=HISTORY_NOTE)
        )


def record_history(
    engine: Engine, tenant: EmulatedTenant, sync: SyncStep, now: datetime
) -> list[SyncResult]:
    """A full sync dated 90 days ago, then STEPS rounds of emulator changes and delta syncs."""
    interval = timedelta(days=DAYS) / (STEPS + 1)
    start = now - timedelta(days=DAYS)
    results = [_checked(sync("full"))]
    backdate(engine, results[0].run_id, start)
    for step in range(1, STEPS + 1):
        when = start + step * interval
        change(tenant, step, when)
        results.append(_checked(sync("delta")))
        backdate(engine, results[-1].run_id, when)
    return results


def replay(tenant: EmulatedTenant, now: datetime) -> None:
    """The same emulator changes without syncing: a re-run's fresh emulator matches the database."""
    interval = timedelta(days=DAYS) / (STEPS + 1)
    start = now - timedelta(days=DAYS)
    for step in range(1, STEPS + 1):
        change(tenant, step, start + step * interval)


def _checked(result: SyncResult) -> SyncResult:
    if not result.ok:
        raise RuntimeError(f"a demo history sync failed: {result.error_message}")
    return result


def change(tenant: EmulatedTenant, step: int, when: datetime) -> None:
    """One round of what happens in a real tenant (deterministic per tenant and step)."""
    rng = random.Random(f"{tenant.tenant_id}:{step}")
    members = [u for _, u in tenant.iter_users_from(0) if u.user_type == "Member"]
    for index in range(rng.randint(2, 4)):
        _hire(tenant, rng, step, index, when)
    addon = _product(tenant, ("POWER_BI_PRO", "VISIOCLIENT", "PROJECTPROFESSIONAL")[step % 3])
    if addon is not None:
        takers = [u for u in members if u.account_enabled and _holds(u) and not _holds(u, addon)]
        for user in rng.sample(takers, min(2, len(takers))):
            _ensure_unit(tenant, addon)
            mutations.assign(tenant, user.id, addon.sku_id)
    if step % 2 == 0 and addon is not None:
        direct = [u for u in members if _holds(u, addon, direct=True)]
        if direct:
            mutations.unassign(tenant, rng.choice(direct).id, addon.sku_id)
    if step % 3 == 0:  # a leaver: sign-in blocked, licences kept (a finding until reclaimed)
        leaving = [u for u in members if u.account_enabled and _holds(u)]
        if leaving:
            mutations.set_enabled(tenant, rng.choice(leaving).id, False)
    if step % 4 == 0:  # an old leaver's account is deleted: its licences go with it
        gone = [u for u in members if not u.account_enabled]
        if gone:
            mutations.delete(tenant, rng.choice(gone).id)
    if step == 5:
        _buy(tenant, "SPE_E5", 10)
    if step == STEPS:  # units cut at renewal below what is assigned: over-assigned until fixed
        _buy(tenant, "SPE_E3", -3)


def _product(tenant: EmulatedTenant, part: str) -> Product | None:
    return next((p for p in tenant.products.values() if p.part_number == part), None)


def _holds(user: User, product: Product | None = None, *, direct: bool = False) -> bool:
    return any(
        (product is None or a.sku_id == product.sku_id) and (not direct or not a.assigned_by_group)
        for a in user.assignments
    )


def _buy(tenant: EmulatedTenant, part: str, units: int) -> None:
    product = _product(tenant, part)
    if product is not None:
        sub = mutations.find_subscription(tenant, product.sku_id)
        mutations.set_units(tenant, sub.id, max(sub.total_licenses + units, 0))


def _ensure_unit(tenant: EmulatedTenant, product: Product) -> None:
    """Buy five more units when none is free (the admin's usual answer; a units change)."""
    if mutations.free_units(tenant, product.sku_id) <= 0:
        _buy(tenant, product.part_number, 5)


def _hire(
    tenant: EmulatedTenant, rng: random.Random, step: int, index: int, when: datetime
) -> None:
    given, surname = rng.choice(_NAMES), rng.choice(_SURNAMES)
    upn = f"{given}.{surname}.{step}{index}@{tenant.domain}".lower()
    user = User(
        str(uuid.uuid5(_NAMESPACE, f"{tenant.tenant_id}:{step}:{index}")),
        upn,
        f"{given} {surname}",
        given_name=given,
        surname=surname,
        mail=upn,
        department=rng.choice(("Sales", "Finance", "IT", "Operations", "Marketing")),
        country="Germany",
        usage_location="DE",
        created=when,
        # Most new hires sign in the next day; some never do (a finding of their own).
        sign_in=SignInActivity(when + timedelta(days=1), None, when + timedelta(days=1))
        if index % 3
        else None,
    )
    tenant.add_user(user)
    paid = [
        p
        for p in tenant.products.values()
        if p.part_number in ("SPE_E3", "SPE_E5", "ENTERPRISEPACK", "O365_BUSINESS_ESSENTIALS")
        and p.part_number not in FREE_PART_NUMBERS
    ]
    if paid:
        product = max(paid, key=lambda p: mutations.free_units(tenant, p.sku_id))
        _ensure_unit(tenant, product)
        mutations.assign(tenant, user.id, product.sku_id)
