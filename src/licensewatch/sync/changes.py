"""What changed between two states of a tenant: licence change history and SKU counts."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Table,
    and_,
    case,
    func,
    insert,
    select,
)

from licensewatch.domain.assignment_states import ASSIGNED_STATES as ASSIGNED_STATES
from licensewatch.storage.models import ChangeKind, LicenceChange, Sku, UserLicense

# Only Error is a failed assignment: Disabled is an assignment switched off, not a failure.
ERROR_STATE = "Error"
# prepaidUnits columns whose moves are logged, with Graph's name for each.
UNIT_FIELDS = {"enabled": "enabled", "warning": "warning", "suspended": "suspended"}
UNIT_FIELDS["locked_out"] = "lockedOut"
CHANGES: Table = LicenceChange.__table__  # type: ignore[assignment]
RESTORE_WINDOW = timedelta(days=30)  # how long Entra keeps a deleted user restorable
Assignment = tuple[str, str | None]  # (sku_id, assigned_by_group): NULL group = direct
AssignmentState = tuple[str | None, str | None]  # (state, error code or None)
Counts = tuple[int, int, int]  # per SKU: users assigned directly, via groups, failing assignments


def held(state: str | None) -> bool:
    """Whether an assignment in this state gives the user the product."""
    return state in ASSIGNED_STATES


def failing(state: str | None, error: str | None) -> bool:
    """Whether an assignment counts as an assignment error (Error; an unknown state with a code)."""
    return state == ERROR_STATE or (state is None and error is not None)


def transition(
    before: AssignmentState | None, after: AssignmentState | None
) -> tuple[ChangeKind, dict[str, Any]] | None:
    """The change one assignment made between two runs (None: none worth a row).

    Gained only when it becomes really active; lost when it stops being active (removed, or
    Active → Error/Disabled); any other move of state or error code is a state change.
    """
    if before == after:
        return None
    was = before[0] if before else None
    now = after[0] if after else None
    error = after[1] if after else before[1] if before else None
    detail = {"from": was, "to": now, "error": error}
    if held(now) and not held(was):
        return ChangeKind.LICENCE_ADDED, detail
    if held(was) and not held(now):
        return ChangeKind.LICENCE_REMOVED, detail
    return ChangeKind.ASSIGNMENT_STATE_CHANGED, detail


@dataclass(frozen=True, slots=True)
class UserState:
    """A user as change detection sees it: UPN, accountEnabled and licence → (state, error)."""

    upn: str | None
    enabled: bool | None
    licences: Mapping[Assignment, AssignmentState]


class ChangeLog:
    """Change rows of one run, buffered and written in the run's committing transaction."""

    def __init__(self, tenant_id: int, run_id: int, occurred_at: datetime) -> None:
        self.tenant_id, self.run_id, self.occurred_at = tenant_id, run_id, occurred_at
        self.rows: list[dict[str, Any]] = []

    def add(
        self,
        kind: ChangeKind,
        *,
        user_id: str | None = None,
        upn: str | None = None,
        sku_id: str | None = None,
        group: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        self.rows.append(
            {
                "tenant_id": self.tenant_id,
                "run_id": self.run_id,
                "occurred_at": self.occurred_at,
                "kind": kind.value,
                "user_id": user_id,
                "user_principal_name": upn,
                "sku_id": sku_id,
                "assigned_by_group": group,
                "detail": detail,
            }
        )

    def user(
        self,
        user_id: str,
        before: UserState | None,
        after: UserState | None,
        *,
        removed: str | None = None,
        restored: bool = False,
    ) -> None:
        """A user's changes between two states (None: the user does not exist).

        `removed` is delta's `@removed` reason: "changed" (soft-deleted, restorable) or "deleted";
        `restored`: a new user that this tenant soft-deleted within the restore window.
        """
        known = after or before
        if known is None:
            return  # created and deleted between two runs: never seen
        upn = known.upn
        if before is None:
            kind = ChangeKind.USER_RESTORED if restored else ChangeKind.USER_CREATED
            self.add(kind, user_id=user_id, upn=upn)
        elif after is None:
            soft = removed == "changed"
            kind = ChangeKind.USER_SOFT_DELETED if soft else ChangeKind.USER_DELETED
            self.add(
                kind, user_id=user_id, upn=upn, detail={"reason": removed} if removed else None
            )
        elif None not in (before.enabled, after.enabled) and before.enabled != after.enabled:
            kind = ChangeKind.ACCOUNT_ENABLED if after.enabled else ChangeKind.ACCOUNT_DISABLED
            self.add(kind, user_id=user_id, upn=upn)
        old = before.licences if before else {}
        new = after.licences if after else {}
        for sku_id, group in sorted(old.keys() | new.keys(), key=str):
            change = transition(old.get((sku_id, group)), new.get((sku_id, group)))
            if change is not None:
                kind, detail = change
                self.add(kind, user_id=user_id, upn=upn, sku_id=sku_id, group=group, detail=detail)

    def units(
        self, before: Mapping[str, Mapping[str, Any]], after: Iterable[Mapping[str, Any]]
    ) -> None:
        """units_changed rows for prepaidUnits that moved (a new SKU starts from 0)."""
        now = {sku["sku_id"]: sku for sku in after}
        for sku_id in sorted(before.keys() | now.keys()):
            was, sku = before.get(sku_id), now.get(sku_id)
            part = (sku or was or {}).get("sku_part_number")
            for name, graph_name in UNIT_FIELDS.items():
                old_value = int(was[name] or 0) if was else 0
                new_value = int(sku[name] or 0) if sku else 0
                if old_value != new_value:
                    detail = {"sku_part_number": part, "units": graph_name}
                    detail |= {"from": old_value, "to": new_value}
                    self.add(ChangeKind.UNITS_CHANGED, sku_id=sku_id, detail=detail)

    def flush(self, connection: Connection) -> int:
        """Insert the buffered rows; returns how many."""
        count = len(self.rows)
        if self.rows:
            connection.execute(insert(CHANGES), self.rows)
            self.rows = []
        return count


def soft_deleted(
    connection: Connection, tenant_id: int, user_ids: Collection[str], now: datetime
) -> set[str]:
    """Which of these users the tenant soft-deleted within Entra's 30-day restore window."""
    found: set[str] = set()
    ids = sorted(user_ids)
    for start in range(0, len(ids), 500):
        statement = select(CHANGES.c.user_id).where(soft_deletes(tenant_id, now))
        statement = statement.where(CHANGES.c.user_id.in_(ids[start : start + 500]))
        found.update(str(uid) for uid in connection.scalars(statement))
    return found


def soft_deletes(tenant_id: int, now: datetime) -> ColumnElement[bool]:
    """Soft-delete rows of a tenant still within the restore window."""
    # (tenant_id, occurred_at) is indexed: the window bounds the scan.
    return and_(
        CHANGES.c.tenant_id == tenant_id,
        CHANGES.c.occurred_at >= now - RESTORE_WINDOW,
        CHANGES.c.kind == ChangeKind.USER_SOFT_DELETED.value,
    )


def stored_skus(connection: Connection, tenant_id: int) -> dict[str, dict[str, Any]]:
    """The tenant's SKU rows as last committed: units and assignment counts."""
    units = (Sku.enabled, Sku.warning, Sku.suspended, Sku.locked_out)
    counts = (Sku.direct_assigned, Sku.group_assigned, Sku.assignment_errors)
    statement = select(Sku.sku_id, Sku.sku_part_number, *units, *counts).where(
        Sku.tenant_id == tenant_id
    )
    return {row.sku_id: dict(row._mapping) for row in connection.execute(statement)}


# ---- per-SKU assignment counts ------------------------------------------------------------------
def sku_aggregates(
    connection: Connection, dataset_id: int, sku_ids: Collection[str] | None = None
) -> dict[str, Counts]:
    """Assignment counts per SKU by SQL over a dataset (distinct users), optionally some SKUs."""
    lic = UserLicense
    assigned = lic.state.in_(ASSIGNED_STATES)
    # Failed assignments (state Error); Disabled ones are switched off, not failing (`failing`).
    errors = (lic.state == ERROR_STATE) | (lic.state.is_(None) & lic.error.is_not(None))
    direct = case((assigned & lic.assigned_by_group.is_(None), lic.user_id))
    grouped = case((assigned & lic.assigned_by_group.is_not(None), lic.user_id))
    statement = (
        select(
            lic.sku_id,
            func.count(func.distinct(direct)),
            func.count(func.distinct(grouped)),
            func.count(case((errors, 1))),
        )
        .where(lic.dataset_id == dataset_id)
        .group_by(lic.sku_id)
    )
    if sku_ids is not None:
        statement = statement.where(lic.sku_id.in_(list(sku_ids)))
    return {row[0]: (row[1], row[2], row[3]) for row in connection.execute(statement)}


def contribution(licences: Mapping[Assignment, AssignmentState]) -> dict[str, Counts]:
    """One user's share of `sku_aggregates`: the same rules, for an incremental update."""
    shares: dict[str, list[int]] = {}
    for (sku_id, group), (state, error) in licences.items():
        share = shares.setdefault(sku_id, [0, 0, 0])
        if held(state):
            share[0 if group is None else 1] = 1
        elif failing(state, error):
            share[2] += 1
    return {sku_id: (d, g, e) for sku_id, (d, g, e) in shares.items()}


def adjust(totals: dict[str, Counts], before: UserState | None, after: UserState | None) -> None:
    """Move SKU counts from a user's old state to its new one."""
    for sign, state in ((-1, before), (1, after)):
        if state is None:
            continue
        for sku_id, (d, g, e) in contribution(state.licences).items():
            old = totals.get(sku_id, (0, 0, 0))
            totals[sku_id] = (old[0] + sign * d, old[1] + sign * g, old[2] + sign * e)
