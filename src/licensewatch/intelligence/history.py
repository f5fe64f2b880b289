"""The licence change history with friendly names: one read model for the CLI, pages and API."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from licensewatch.intelligence.catalog import ProductNames, product_names
from licensewatch.storage.models import ChangeKind, Tenant
from licensewatch.storage.queries import ChangeRow, licence_changes

# Words for the kinds the web shows; a kind added later shows its own value until named here.
KIND_LABELS: dict[str, str] = {
    ChangeKind.LICENCE_ADDED: "Licence added",
    ChangeKind.LICENCE_REMOVED: "Licence removed",
    ChangeKind.ACCOUNT_ENABLED: "Account enabled",
    ChangeKind.ACCOUNT_DISABLED: "Account disabled",
    ChangeKind.USER_CREATED: "User created",
    ChangeKind.USER_DELETED: "User deleted",
    ChangeKind.UNITS_CHANGED: "Units changed",
}


def kind_label(kind: str) -> str:
    """A change kind in words."""
    return KIND_LABELS.get(kind, kind.replace("_", " ").capitalize())


@dataclass(frozen=True)
class ChangeQuery:
    """What the history is filtered on (None: no filter); `since` inclusive, `until` not."""

    tenant: str | None = None
    sku_id: str | None = None
    user: str | None = None  # a user principal name, any case
    user_id: str | None = None  # the directory object id (survives a rename)
    kind: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    # The tenants a caller may see (a viewer limited to some); None: every tenant.
    tenants: frozenset[str] | None = None


class Change(BaseModel):
    """One licence change with the product's friendly name and its specifics in words."""

    id: int
    tenant: str
    occurred_at: datetime
    kind: str
    user_principal_name: str | None
    user_id: str | None
    sku_id: str | None
    sku_part_number: str | None
    product: str | None
    assigned_by_group: str | None
    group_name: str | None
    detail: dict[str, Any] | None
    description: str
    run_id: int
    note: str | None = None  # e.g. that `licensewatch demo` back-dated the change


def describe(row: ChangeRow | Change) -> str:
    """The change's specifics in words: via which group and in which state, or units from → to."""
    detail = row.detail or {}
    if row.kind == ChangeKind.UNITS_CHANGED:
        return f"{detail.get('units', 'units')}: {detail.get('from')} → {detail.get('to')}"
    if row.kind == ChangeKind.USER_SOFT_DELETED:
        return "in deleted items (restorable for 30 days)"
    if row.sku_id:
        group = row.group_name or row.assigned_by_group
        text = f"via group {group}" if group else "direct"
        was, now, error = detail.get("from"), detail.get("to"), detail.get("error")
        if {was, now} - {None, "Active"} or error:  # say the state when it is not plain Active
            text += f", {was or 'none'} → {now or 'none'}" + (f" ({error})" if error else "")
        return text
    return ""


def change_history(
    session: Session,
    query: ChangeQuery,
    *,
    limit: int = 500,
    offset: int = 0,
    before: tuple[datetime, int] | None = None,
) -> list[Change]:
    """The changes matching the query, newest first, with friendly product names; `before`
    (occurred_at, id) continues after the last change of a previous read."""
    if query.tenant is not None:
        rows = _rows(session, query, query.tenant, limit, offset, before)
    else:
        # Per tenant, each read in its (tenant_id, occurred_at) index order, then merged: one
        # statement over every tenant sorts the whole table (1.6 s at 500k changes on SQLite).
        tenants = _tenants(session, query)
        newest = [_rows(session, query, name, offset + limit, 0, before) for name in tenants]
        merged = heapq.merge(*newest, key=lambda r: (r.occurred_at, r.id), reverse=True)
        rows = list(itertools.islice(merged, offset, offset + limit))
    names = product_names(session)
    return [_named(row, names) for row in rows]


def every_change(session: Session, query: ChangeQuery, chunk: int = 2000) -> Iterator[Change]:
    """Every matching change, tenant by tenant (by name), newest first within each tenant.

    Read in chunks that continue after the last row (keyset, no offset to skip), so a long
    history never sits in memory and each chunk costs the same.
    """
    names = product_names(session)
    tenants = [query.tenant] if query.tenant is not None else _tenants(session, query)
    for tenant in tenants:
        before: tuple[datetime, int] | None = None
        while True:
            rows = _rows(session, query, tenant, chunk, 0, before)
            yield from (_named(row, names) for row in rows)
            if len(rows) < chunk:
                break
            before = (rows[-1].occurred_at, rows[-1].id)


def _tenants(session: Session, query: ChangeQuery) -> list[str]:
    names = session.scalars(select(Tenant.name).order_by(Tenant.name))
    return [name for name in names if query.tenants is None or name in query.tenants]


def _rows(
    session: Session,
    query: ChangeQuery,
    tenant: str,
    limit: int,
    offset: int,
    before: tuple[datetime, int] | None = None,
) -> list[ChangeRow]:
    return licence_changes(
        session,
        tenant_name=tenant,
        since=query.since,
        user_upn=query.user,
        kind=query.kind,
        limit=limit,
        sku_id=query.sku_id,
        user_id=query.user_id,
        until=query.until,
        offset=offset,
        before=before,
    )


def _named(row: ChangeRow, names: ProductNames) -> Change:
    product = None
    if row.sku_id:
        product = names.display_name(row.sku_id, row.sku_part_number or row.sku_id)
    return Change(
        id=row.id,
        tenant=row.tenant,
        occurred_at=row.occurred_at,
        kind=row.kind,
        user_principal_name=row.user_principal_name,
        user_id=row.user_id,
        sku_id=row.sku_id,
        sku_part_number=row.sku_part_number,
        product=product,
        assigned_by_group=row.assigned_by_group,
        group_name=row.group_name,
        detail=row.detail,
        description=describe(row),
        run_id=row.run_id,
        note=row.note,
    )
