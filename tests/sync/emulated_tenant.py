"""Sync test helpers: connect a database tenant to an emulated one; what it must hold."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from database_fixtures import add_tenant
from emulator_fixtures import EmulatorFactory
from licensewatch.emulator.app import create_app
from licensewatch.emulator.faults import FaultInjector
from licensewatch.emulator.options import EmulatorOptions
from licensewatch.emulator.seed import build_world
from licensewatch.emulator.server import RunningEmulator
from licensewatch.emulator.state import ASSIGNED_STATES, Tenant
from licensewatch.emulator.truth import ground_truth
from licensewatch.graph.client import GraphClient
from licensewatch.graph.connection import GraphConnection
from licensewatch.graph.retry import RetryPolicy
from licensewatch.storage.database import session_scope
from licensewatch.storage.models import Sku, User, UserLicense
from licensewatch.storage.models import Tenant as TenantRow
from licensewatch.storage.writers import USER_COLUMNS


def fast_client(connection: GraphConnection) -> GraphClient:
    """A client whose retry budget runs out quickly and without real sleeping."""
    policy = RetryPolicy(max_attempts=3, max_total_wait=5.0, sync_budget=0.0, sleep=lambda _s: None)
    return GraphClient(connection, retry=policy)


def register(engine: Engine, tenant: Tenant) -> int:
    return add_tenant(engine, tenant.domain, tenant.tenant_id)


def _second(value: datetime | None) -> datetime | None:
    return value.replace(microsecond=0) if value else None


def expected_users(tenant: Tenant, tenant_pk: int, sign_in: bool) -> set[tuple[Any, ...]]:
    rows = set()
    for _, u in tenant.iter_users_from(0):
        activity = u.sign_in if sign_in else None
        rows.add(
            (
                u.id,
                tenant_pk,
                u.user_principal_name,
                u.display_name,
                u.mail,
                u.account_enabled,
                u.user_type,
                u.department,
                u.job_title,
                u.company_name,
                u.country,
                u.usage_location,
                _second(u.created),
                u.employee_id,
                u.on_premises_sync_enabled,
                u.cost_center,
                _second(activity.last_sign_in) if activity else None,
                _second(activity.last_non_interactive_sign_in) if activity else None,
                _second(activity.last_successful_sign_in) if activity else None,
            )
        )
    return rows


def expected_licences(tenant: Tenant) -> set[tuple[Any, ...]]:
    return {
        (
            u.id,
            a.sku_id,
            a.assigned_by_group,
            a.state,
            None if a.error == "None" else a.error,
            ",".join(a.disabled_plans),
        )
        for _, u in tenant.iter_users_from(0)
        for a in u.assignments
    }


def expected_skus(tenant: Tenant) -> dict[str, tuple[int, ...]]:
    direct: dict[str, set[str]] = defaultdict(set)
    grouped: dict[str, set[str]] = defaultdict(set)
    consumed = tenant.consumed_units()
    for _, u in tenant.iter_users_from(0):
        for a in u.assignments:
            if a.state in ASSIGNED_STATES:
                (grouped if a.assigned_by_group else direct)[a.sku_id].add(u.id)
    result: dict[str, tuple[int, ...]] = {}
    for sku_id in tenant.products:
        units = tenant.prepaid_units(sku_id)
        result[sku_id] = (
            units["enabled"],
            units["warning"],
            units["suspended"],
            units["lockedOut"],
            consumed.get(sku_id, 0),
            len(direct[sku_id]),
            len(grouped[sku_id]),
        )
    return result


def stored(engine: Engine, tenant_pk: int) -> dict[str, Any]:
    """What the database holds for a tenant's current dataset."""
    with session_scope(engine, write=False) as session:
        row = session.get(TenantRow, tenant_pk)
        assert row is not None
        dataset = row.dataset_id
        users = {
            tuple(getattr(u, c) for c in USER_COLUMNS[1:])
            for u in session.scalars(select(User).where(User.dataset_id == dataset))
        }
        licences = {
            (x.user_id, x.sku_id, x.assigned_by_group, x.state, x.error, x.disabled_plans)
            for x in session.scalars(select(UserLicense).where(UserLicense.dataset_id == dataset))
        }
        skus = {
            s.sku_id: (
                s.enabled,
                s.warning,
                s.suspended,
                s.locked_out,
                s.consumed,
                s.direct_assigned,
                s.group_assigned,
            )
            for s in session.scalars(select(Sku).where(Sku.tenant_id == tenant_pk))
        }
        return {
            "dataset": dataset,
            "user_count": row.user_count,  # what `status` shows: must equal len(users)
            "users": users,
            "licences": licences,
            "skus": skus,
            "sign_in_data": row.sign_in_data,
            "organization": row.organization_name,
            "resolved": row.resolved_tenant_id,
        }


def start(
    make_emulator: EmulatorFactory,
    *,
    tenants: int = 1,
    users: int = 60,
    seed: int = 1,
    scenario: str = "messy",
    options: EmulatorOptions | None = None,
    cert_dir: Path,
) -> tuple[RunningEmulator, FaultInjector]:
    """An emulator over a seeded world, with the fault injector its Graph routes consult."""
    options = options or EmulatorOptions()
    world = build_world(
        tenants=tenants, users=users, seed=seed, scenario=scenario, cert_dir=cert_dir
    )
    app = create_app(world, options)
    emulator = make_emulator(world, app=app)
    injector: FaultInjector = app.state.injector
    return emulator, injector


def expected_balance(tenant: Tenant) -> dict[str, dict[str, Any]]:
    """The balance each SKU must show: the emulator's ground truth, in the balance schema."""
    truth = ground_truth(tenant)
    now = datetime.now(UTC)
    rows: dict[str, dict[str, Any]] = {}
    for sku in truth["skus"]:
        subs = [s for s in tenant.subscriptions if s.sku_id == sku["sku_id"]]
        lapsing = [
            s.next_lifecycle.replace(microsecond=0)
            for s in subs
            if s.status in ("Suspended", "LockedOut") and s.next_lifecycle
        ]
        paid = sku["section"] == "paid"
        usable = sku["purchased"] + sku["trial"]
        spare = usable - sku["consumed"]
        trial_ends = datetime.fromisoformat(sku["trial_ends"]) if sku["trial_ends"] else None
        rows[sku["sku_id"]] = {
            "tenant": tenant.domain,
            "name": sku["sku_part_number"],
            "sku_id": sku["sku_id"],
            "sku_part_number": sku["sku_part_number"],
            "section": sku["section"],
            "capability_status": sku["capability_status"],
            "enabled": sku["enabled"],
            "warning": sku["warning"],
            "suspended": sku["suspended"],
            "locked_out": sku["locked_out"],
            "consumed": sku["consumed"],
            "purchased": sku["purchased"],
            "grace": sku["grace"],
            "trial": sku["trial"],
            "available": sku["available"],
            "unassigned": sku["unassigned"],
            "utilisation": sku["consumed"] / usable if usable else None,
            "lapsed_holders": sku["lapsed_holders"],
            "over_assigned_units": sku["over_assigned_units"],
            "assigned_directly": sku["direct"],
            "assigned_via_groups": sku["via_group"],
            "assignment_errors": sum(sku["errors"].values()),
            "next_renewal": sku["next_renewal"],
            "renewal_in_grace": sku["renewal_in_grace"],
            "trial_ends": sku["trial_ends"],
            "lapsed_until": min(lapsing).isoformat() if lapsing else None,
            "over_assigned": sku["over_assigned_units"] > 0,
            "lapsed": sku["lapsed_holders"] > 0,
            "low": paid and usable > 0 and spare >= 0 and (spare < 5 or spare < usable * 0.05),
            "expiring": paid
            and (
                sku["grace"] > 0
                or sku["suspended"] + sku["locked_out"] > 0
                or (trial_ends is not None and trial_ends - now <= timedelta(days=30))
            ),
        }
    return rows


def assignment_errors(tenant: Tenant) -> dict[str, int]:
    return {s["sku_id"]: sum(s["errors"].values()) for s in ground_truth(tenant)["skus"]}
