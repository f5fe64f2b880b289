"""The licence balance's queries in plain SQL: the CLI (sqlite3 or SQLAlchemy), web and reports."""

from __future__ import annotations

from datetime import datetime

from licensewatch.domain.balance import BalanceRow, build_row
from licensewatch.domain.units import SubscriptionTotal
from licensewatch.storage.clock import utcnow
from licensewatch.storage.plain_sql import Bind, flag, rows, utc

_BY_NAME = " WHERE t.name = :tenant"  # appended when one tenant is asked for
SKUS_SQL = (
    "SELECT t.name, k.tenant_id, k.sku_id, k.sku_part_number, k.applies_to,"
    " k.capability_status, k.enabled, k.warning, k.suspended, k.locked_out, k.consumed,"
    " k.direct_assigned, k.group_assigned, k.assignment_errors"
    " FROM skus AS k JOIN tenants AS t ON t.id = k.tenant_id{where}"
    " ORDER BY t.name, k.sku_part_number, k.sku_id"
)
# build_row's arguments in the order SKUS_SQL selects them (tenant_id: the subscriptions' key).
_SKU_FIELDS = (
    "tenant", "tenant_id", "sku_id", "sku_part_number", "applies_to", "capability_status",
    "enabled", "warning", "suspended", "locked_out", "consumed", "assigned_directly",
    "assigned_via_groups", "assignment_errors",
)  # fmt: skip
SUBSCRIPTIONS_SQL = (
    "SELECT s.tenant_id, s.sku_id, s.status, s.is_trial, sum(s.total_licenses),"
    " min(s.next_lifecycle_at)"
    " FROM subscriptions AS s JOIN tenants AS t ON t.id = s.tenant_id{where}"
    " GROUP BY s.tenant_id, s.sku_id, s.status, s.is_trial"
)


def _sql(template: str, tenant_name: str | None) -> tuple[str, dict[str, str]]:
    if tenant_name is None:
        return template.format(where=""), {}
    return template.format(where=_BY_NAME), {"tenant": tenant_name}


def subscription_totals(
    bind: Bind, tenant_name: str | None = None
) -> dict[tuple[int, str], list[SubscriptionTotal]]:
    """(tenant id, sku id) → the SKU's subscriptions summed by status and trial flag."""
    found: dict[tuple[int, str], list[SubscriptionTotal]] = {}
    for tenant_id, sku_id, status, trial, units, first in rows(
        bind, *_sql(SUBSCRIPTIONS_SQL, tenant_name)
    ):
        total = SubscriptionTotal(status, bool(flag(trial)), int(units or 0), utc(first))
        found.setdefault((tenant_id, sku_id), []).append(total)
    return found


def balance_rows(
    bind: Bind, tenant_name: str | None = None, *, now: datetime | None = None
) -> list[BalanceRow]:
    """Each tenant's SKUs with units, assignments, renewals and trials (domain/balance.py)."""
    found = rows(bind, *_sql(SKUS_SQL, tenant_name))
    totals = subscription_totals(bind, tenant_name) if found else {}
    now = now or utcnow()
    balance = []
    for row in found:
        values = dict(zip(_SKU_FIELDS, row, strict=True))
        key = (values.pop("tenant_id"), values["sku_id"])
        balance.append(build_row(**values, subscriptions=totals.get(key, ()), now=now))
    return balance
