"""The licence balance per SKU (per tenant and across tenants), read from the per-run aggregates."""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from licensewatch.domain.balance import (
    ALL_TENANTS,
    BalanceRow,
    BalanceTotals,
    combined_rows,
    totals,
)
from licensewatch.intelligence.catalog import with_names
from licensewatch.storage.models.runs import SyncRun, SyncStatus
from licensewatch.storage.queries import balance_rows as storage_balance_rows
from licensewatch.web.queries.common import tenant_refs
from licensewatch.web.queries.trends import trends

__all__ = [
    "ALL_TENANTS",
    "BalanceRecord",
    "BalanceRow",
    "BalanceTotals",
    "TotalsRecord",
    "balance_rows",
    "combined_rows",
    "totals",
    "trends",
]


class BalanceRecord(BaseModel):
    """One product's balance in the one balance schema (domain/balance.py BALANCE_COLUMNS)."""

    tenant: str
    name: str
    sku_id: str
    sku_part_number: str
    section: str  # paid | free | company
    capability_status: str | None
    enabled: int
    warning: int
    suspended: int
    locked_out: int
    consumed: int
    purchased: int
    grace: int
    trial: int
    available: int
    unassigned: int
    utilisation: float | None
    lapsed_holders: int
    over_assigned_units: int
    assigned_directly: int
    assigned_via_groups: int
    assignment_errors: int
    next_renewal: str | None  # ISO 8601 with offset, as in the CLI's JSON and CSV
    renewal_in_grace: bool
    trial_ends: str | None
    lapsed_until: str | None  # when the lapsed units move on (deletion): move holders before
    over_assigned: bool
    lapsed: bool
    low: bool
    expiring: bool

    @classmethod
    def of(cls, row: BalanceRow) -> BalanceRecord:
        return cls(**row.to_dict())


class TotalsRecord(BaseModel):
    """Sums over the paid products (domain/balance.py BalanceTotals)."""

    products: int
    purchased: int
    grace: int
    trial: int
    consumed: int
    available: int
    unassigned: int
    over_assigned: int
    over_assigned_units: int
    lapsed: int
    lapsed_holders: int
    low: int
    expiring: int
    free_products: int
    company_products: int

    @classmethod
    def of(cls, sums: BalanceTotals) -> TotalsRecord:
        return cls(**sums.to_dict())


# The newest completed runs of a tenant (its (tenant_id, started_at) index): every completed
# run, full or delta, stored one snapshot per SKU, so these are the newest history points.
RECENT_RUNS = (
    select(SyncRun.id)
    .where(SyncRun.tenant_id == bindparam("tenant"), SyncRun.status == SyncStatus.COMPLETED)
    .order_by(SyncRun.started_at.desc(), SyncRun.id.desc())
    .limit(bindparam("points"))
)


def balance_rows(session: Session, tenant: str | None = None) -> list[BalanceRow]:
    """Every SKU of one tenant (or all tenants) with friendly names, by tenant then name.

    The numbers are the domain's (domain/balance.py), shared with the CLI, findings and costs.
    """
    visible = {ref.name for ref in tenant_refs(session, tenant)}  # the caller's tenant scope
    rows_in_scope = [r for r in storage_balance_rows(session, tenant) if r.tenant in visible]
    rows = with_names(session, rows_in_scope)
    rows.sort(key=lambda r: (r.tenant.lower(), r.name.lower()))
    return rows
