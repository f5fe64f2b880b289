"""What the rules read about one tenant, loaded once from its current dataset and usage tables."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from licensewatch.domain.assignment_states import ASSIGNED_STATES as ASSIGNED_STATES
from licensewatch.domain.sections import is_free
from licensewatch.domain.usage import Capability, Period, capabilities, mailbox_quota
from licensewatch.intelligence.recommendations.rows import USAGE_COLUMNS, USER_COLUMNS, UserRow
from licensewatch.storage.models import (
    ChangeKind,
    Group,
    LicenceChange,
    Sku,
    SkuServicePlan,
    Subscription,
    Tenant,
    User,
    UserLicense,
)
from licensewatch.storage.models.usage import UsageCollection, UserUsage

_LIVE = ("Enabled", "Warning")


@dataclass(frozen=True)
class SkuFacts:
    """A subscribed product: its per-user plans (by name), what they allow, whether it is bought."""

    sku_id: str
    part_number: str
    plans: frozenset[str]
    plan_names: dict[str, str]  # plan id (lower) -> name
    purchasable: bool  # paid units of a live subscription: a target a user can move to

    # Cached: the rules ask for them per user and candidate (tens of thousands of times).
    @cached_property
    def capabilities(self) -> frozenset[Capability]:
        return capabilities(self.plans)

    @cached_property
    def quota(self) -> int | None:
        return mailbox_quota(self.plans)


@dataclass
class Holding:
    """How a user holds one SKU: directly, through groups, and the plans switched off."""

    direct: bool = False
    groups: list[str] = field(default_factory=list)
    disabled: list[frozenset[str]] = field(default_factory=list)  # per assignment, plan names

    def disabled_everywhere(self) -> frozenset[str]:
        """Plans off in every held assignment (enabled by any one assignment = enabled)."""
        return frozenset.intersection(*self.disabled) if self.disabled else frozenset()


@dataclass(frozen=True)
class UsageFacts:
    """One user's row of the usage reports."""

    refresh: date | None
    last: dict[Capability, date | None]
    apps_seen: bool
    apps_last: date | None
    windows: bool
    mac: bool
    mobile: bool
    web: bool
    mailbox_seen: bool
    storage_used: int | None


@dataclass
class UserFacts:
    user_id: str
    upn: str
    display_name: str
    enabled: bool | None
    created_at: datetime | None
    last_sign_in: datetime | None
    never_signed_in: bool
    disabled_since: datetime | None = None
    holdings: dict[str, Holding] = field(default_factory=dict)
    usage: UsageFacts | None = None


@dataclass
class TenantFacts:
    name: str
    now: datetime
    period: Period
    usage_status: str | None  # `usage_basis` of the collection, None when never collected
    concealed: bool | None
    refresh: date | None  # getOffice365ActiveUserDetail's Report Refresh Date
    sign_in_data: bool | None
    skus: dict[str, SkuFacts]
    groups: dict[str, str]  # id -> display name
    users: list[UserFacts]

    @property
    def usage_usable(self) -> bool:
        """Per-user usage rows exist and may be joined to users (names not concealed)."""
        return self.usage_status == "ok" and self.concealed is False


def _skus(session: Session, tenant_pk: int) -> dict[str, SkuFacts]:
    plans: dict[str, dict[str, str]] = {}
    rows = session.execute(
        select(
            SkuServicePlan.sku_id,
            SkuServicePlan.service_plan_id,
            SkuServicePlan.service_plan_name,
            SkuServicePlan.applies_to,
        ).where(SkuServicePlan.tenant_id == tenant_pk)
    )
    for sku_id, plan_id, name, applies_to in rows:
        if applies_to == "Company" or not name:
            continue  # tenant-level plans are nobody's to use
        plans.setdefault(sku_id, {})[str(plan_id).lower()] = name
    paid: set[str] = set()
    subscribed: set[str] = set()
    for sku_id, status, units, trial in session.execute(
        select(
            Subscription.sku_id,
            Subscription.status,
            Subscription.total_licenses,
            Subscription.is_trial,
        ).where(Subscription.tenant_id == tenant_pk)
    ):
        subscribed.add(sku_id)
        if status in _LIVE and units and not trial:
            paid.add(sku_id)
    found: dict[str, SkuFacts] = {}
    for sku in session.scalars(select(Sku).where(Sku.tenant_id == tenant_pk)):
        by_id = plans.get(sku.sku_id, {})
        bought = sku.sku_id in paid or (
            sku.sku_id not in subscribed and (sku.enabled + sku.warning) > 0
        )
        purchasable = bought and sku.applies_to != "Company" and not is_free(sku.sku_part_number)
        found[sku.sku_id] = SkuFacts(
            sku.sku_id, sku.sku_part_number, frozenset(by_id.values()), by_id, purchasable
        )
    return found


def _usage(row: Any) -> UsageFacts:
    last = {
        Capability.EXCHANGE: row.exchange_last,
        Capability.ONEDRIVE: row.onedrive_last,
        Capability.SHAREPOINT: row.sharepoint_last,
        Capability.TEAMS: row.teams_last,
        Capability.SKYPE: row.skype_last,
        Capability.YAMMER: row.yammer_last,
    }
    return UsageFacts(
        row.report_refresh_date,
        last,
        row.apps_seen,
        row.apps_last,
        row.windows,
        row.mac,
        row.mobile,
        row.web,
        row.mailbox_seen,
        row.storage_used_bytes,
    )


def _latest(*values: datetime | None) -> datetime | None:
    present = [v for v in values if v is not None]
    return max(present) if present else None


def usage_basis(collection: UsageCollection | None) -> str | None:
    """The status the rules go by: a failed attempt after a success keeps the rows and dates of
    that success (`sync/usage.py`), so they are used as they were ("showing the last collected
    data"), and the stored recommendations need no rebuild for a failure."""
    if collection is None:
        return None
    if collection.status == "failed" and collection.collected_at is not None:
        return "ok"
    return collection.status


def load_facts(
    session: Session, tenant: Tenant, now: datetime, only: Collection[str] | None = None
) -> TenantFacts:
    """Everything the rules need about one tenant, read in the session's snapshot (`only`: of
    these user ids alone; the tenant's products, groups and usage state all the same)."""
    collection = session.get(UsageCollection, tenant.id)
    period = Period(collection.period) if collection is not None else Period.D90
    skus = _skus(session, tenant.id)
    groups = {
        gid: name or gid
        for gid, name in session.execute(
            select(Group.id, Group.display_name).where(Group.tenant_id == tenant.id)
        )
    }
    facts = TenantFacts(
        tenant.name,
        now,
        period,
        usage_basis(collection),
        collection.concealed if collection else None,
        collection.active_refresh_date if collection else None,
        tenant.sign_in_data,
        skus,
        groups,
        [],
    )
    if tenant.dataset_id is None or (only is not None and not only):
        return facts  # (no user asked for: SQLite would scan every licence for an empty IN)
    users: dict[str, UserFacts] = {}
    statement = (
        # Plain columns, not ORM entities: a tenant's every licence row is read (100k users).
        select(*USER_COLUMNS)
        .add_columns(UserLicense.sku_id, UserLicense.assigned_by_group, UserLicense.disabled_plans)
        .join(
            UserLicense,
            and_(UserLicense.dataset_id == User.dataset_id, UserLicense.user_id == User.id),
        )
        .where(User.dataset_id == tenant.dataset_id, UserLicense.state.in_(ASSIGNED_STATES))
        .order_by(User.user_principal_name, User.id)
    )
    if only is not None:
        statement = statement.where(User.id.in_(sorted(only)))
    for *columns, sku_id, group, disabled in session.execute(statement):
        user = UserRow(*columns)
        facts_user = users.get(user.id)
        if facts_user is None:
            seen = (
                user.last_sign_in_at,
                user.last_non_interactive_sign_in_at,
                user.last_successful_sign_in_at,
            )
            facts_user = users[user.id] = UserFacts(
                user.id,
                user.user_principal_name or user.id,
                user.display_name or "",
                user.account_enabled,
                user.created_at,
                _latest(*seen),
                all(v is None for v in seen),
            )
        holding = facts_user.holdings.setdefault(sku_id, Holding())
        if group is None:
            holding.direct = True
        elif group not in holding.groups:
            holding.groups.append(group)
        names = skus[sku_id].plan_names if sku_id in skus else {}
        off = {p.strip().lower() for p in (disabled or "").split(",") if p.strip()}
        holding.disabled.append(frozenset(names[p] for p in off if p in names))
    _add_disabled_since(session, tenant.id, users, now)
    if facts.usage_usable:
        by_upn = {u.upn.lower(): u for u in users.values()}
        usage = select(*USAGE_COLUMNS).where(UserUsage.tenant_id == tenant.id)
        if only is not None:
            usage = usage.where(UserUsage.user_principal_name.in_(sorted(by_upn)))
        rows = session.execute(usage)
        for row in rows:
            match = by_upn.get(row.user_principal_name)
            if match is not None and not row.is_deleted:
                match.usage = _usage(row)
    facts.users = list(users.values())
    return facts


def _add_disabled_since(
    session: Session, tenant_pk: int, users: dict[str, UserFacts], now: datetime
) -> None:
    """When each disabled user was seen being disabled (the change history), when known."""
    disabled = {uid for uid, u in users.items() if u.enabled is False}
    if not disabled:
        return
    # A year back is plenty: the rule only asks whether it happened within the last N days.
    since = now - timedelta(days=3650)
    rows = session.execute(
        select(LicenceChange.user_id, LicenceChange.occurred_at).where(
            LicenceChange.tenant_id == tenant_pk,
            LicenceChange.kind == ChangeKind.ACCOUNT_DISABLED.value,
            LicenceChange.occurred_at >= since,
            *([LicenceChange.user_id.in_(sorted(disabled))] if len(disabled) < 1000 else []),
        )
    )
    for user_id, when in rows:
        user = users.get(user_id) if user_id in disabled else None
        if user is not None and (user.disabled_since is None or when > user.disabled_since):
            user.disabled_since = when
