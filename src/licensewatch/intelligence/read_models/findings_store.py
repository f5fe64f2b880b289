"""Findings read model: each rule's summary row and its affected rows, written and read.

Rows of a rule about products are read in their stored position; rows of a rule about users by
their key (the userPrincipalName, the order the rule lists them in): a delta replaces some
users' rows in place, new rows take fresh positions, and the order stays the rule's.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, Table, delete, insert, select
from sqlalchemy.orm import Session

from licensewatch.intelligence.findings.base import Affected, Finding, FindingRule
from licensewatch.intelligence.read_models.codec import (
    cost_text,
    cost_value,
    names_text,
    names_value,
)
from licensewatch.storage.models.read_models import FindingRow, FindingSummary
from licensewatch.storage.process_memo import ProcessMemo
from licensewatch.storage.writers import bulk_insert

SUMMARIES: Table = FindingSummary.__table__  # type: ignore[assignment]
ROWS: Table = FindingRow.__table__  # type: ignore[assignment]
ROW_COLUMNS: tuple[str, ...] = ("tenant_id", "rule", "position", "key", "name", "detail")
ROW_COLUMNS += ("products", "units", "cost")
STREAM_BATCH = 2000
# Per database: each tenant's first pages of rows (`first_pages`), by the builds they belong to.
# Up to ≈ 0.3 MB each (100 rows of 11 rules): the 32 tenants read last, ≈ 10 MB per worker at most.
_FIRST_PAGES: ProcessMemo[dict[FindingRule, tuple[list[Affected], str | None]]] = ProcessMemo(32)
# The rules whose rows are users, one row per userPrincipalName (read by key).
USER_RULES = frozenset(
    {
        FindingRule.DISABLED_HOLDERS,
        FindingRule.GUEST_HOLDERS,
        FindingRule.DIRECT_AND_GROUP,
        FindingRule.OVERLAPPING_PRODUCTS,
        FindingRule.ASSIGNMENT_ERRORS,
        FindingRule.INACTIVE_USERS,
        FindingRule.NEVER_SIGNED_IN,
    }
)


class StaleCursor(ValueError):
    """A cursor of a read model that was recomputed since: the listing must start again."""


def write_finding(
    session: Session,
    tenant_pk: int,
    finding: Finding,
    *,
    dataset_id: int | None,
    fingerprint: str,
    computed_at: datetime,
    build_ms: int,
) -> None:
    """Replace one rule's stored summary and rows (bulk: executemany or COPY, no ORM rows)."""
    connection = session.connection()
    rule = finding.rule.value
    connection.execute(delete(ROWS).where(ROWS.c.tenant_id == tenant_pk, ROWS.c.rule == rule))
    connection.execute(
        delete(SUMMARIES).where(SUMMARIES.c.tenant_id == tenant_pk, SUMMARIES.c.rule == rule)
    )
    connection.execute(
        insert(SUMMARIES).values(
            tenant_id=tenant_pk,
            rule=rule,
            dataset_id=dataset_id,
            fingerprint=fingerprint,
            computed_at=computed_at,
            build_ms=build_ms,
            title=finding.title,
            subject=finding.subject,
            fix=finding.fix,
            count=finding.count,
            rows=len(finding.affected),
            cost=cost_text(finding.cost) if finding.cost is not None else None,
            unavailable=finding.unavailable,
        )
    )
    rows = row_tuples(tenant_pk, finding.rule, finding.affected, 0)
    bulk_insert(connection, ROWS, ROW_COLUMNS, rows)


def row_tuples(
    tenant_pk: int, rule: FindingRule, affected: list[Affected], first: int
) -> Iterator[tuple[Any, ...]]:
    """Rows to insert (`ROW_COLUMNS`), numbered from position `first`."""
    for position, a in enumerate(affected, start=first):
        yield (
            *(tenant_pk, rule.value, position, str(a.key), a.name, a.detail),
            *(names_text(a.products), a.units, cost_text(a.cost)),
        )


def summaries(session: Session, tenant_pk: int) -> dict[FindingRule, FindingSummary]:
    """The stored summary of each rule of a tenant (a rule never built is missing)."""
    found = session.scalars(select(FindingSummary).where(FindingSummary.tenant_id == tenant_pk))
    known = {rule.value for rule in FindingRule}
    return {FindingRule(s.rule): s for s in found if s.rule in known}


def finding_of(summary: FindingSummary, tenant: str) -> Finding:
    """The finding a summary row describes, without its affected rows."""
    return Finding(
        FindingRule(summary.rule),
        summary.title,
        tenant,
        summary.subject,
        summary.fix,
        count=summary.count,
        cost=cost_value(summary.cost) if summary.cost is not None else None,
        unavailable=summary.unavailable,
    )


def _affected(row: Any) -> Affected:
    return Affected(
        row.key, row.name, row.detail, names_value(row.products), row.units, cost_value(row.cost)
    )


def _by_key(summary: FindingSummary) -> bool:
    return summary.rule in USER_RULES


def cursor_of(summary: FindingSummary, row: Any) -> str:
    """An opaque cursor: the build it belongs to and the last row read (its key or position)."""
    if _by_key(summary):
        key = base64.urlsafe_b64encode(row.key.encode()).decode().rstrip("=")
        return f"{summary.fingerprint[:16]}.k{key}"
    return f"{summary.fingerprint[:16]}.{row.position}"


def position_of(summary: FindingSummary, cursor: str | None) -> int | str | None:
    """The key or position after which a cursor's page starts (None: the first page)."""
    if not cursor:
        return None
    build, _, after = cursor.partition(".")
    key: int | str
    if after.isdigit():
        key = int(after)
    elif after.startswith("k"):
        try:
            text = after[1:]
            key = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise ValueError(f"cursor {cursor!r} is not one this API returned") from None
    else:
        raise ValueError(f"cursor {cursor!r} is not one this API returned")
    if build != summary.fingerprint[:16]:
        raise StaleCursor("the findings were recomputed since this cursor: start again")
    if isinstance(key, str) != _by_key(summary):  # (a cursor of another rule's kind)
        raise ValueError(f"cursor {cursor!r} is not one this API returned")
    return key


def _rows(summary: FindingSummary, after: int | str | None) -> Select[Any]:
    """The rule's rows in its order, after a key or position."""
    order = ROWS.c.key if _by_key(summary) else ROWS.c.position
    where: list[ColumnElement[bool]] = [
        ROWS.c.tenant_id == summary.tenant_id,
        ROWS.c.rule == summary.rule,
    ]
    if after is not None:
        where.append(order > after)
    return (
        select(ROWS.c.position, ROWS.c.key, ROWS.c.name, ROWS.c.detail, ROWS.c.products)
        .add_columns(ROWS.c.units, ROWS.c.cost)
        .where(*where)
        .order_by(order)
    )


def page(
    session: Session, summary: FindingSummary, *, cursor: str | None, limit: int | None
) -> tuple[list[Affected], str | None]:
    """Affected rows after the cursor (keyset on the rule's order) and the next page's cursor."""
    statement = _rows(summary, position_of(summary, cursor))
    if limit is None:
        return [_affected(row) for row in session.execute(statement)], None
    rows = list(session.execute(statement.limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = cursor_of(summary, rows[-1]) if more and rows else None
    return [_affected(row) for row in rows], next_cursor


def first_pages(
    session: Session, stored: dict[FindingRule, FindingSummary], limit: int
) -> dict[FindingRule, tuple[list[Affected], str | None]]:
    """The first page of every rule: the product rules in one query (their positions are dense
    from 0, so the rows at positions 0..limit are each rule's page and the probe for a next one),
    each user rule by its key index."""
    # The rows a summary names are written in its transaction (a rebuild or a delta writes a
    # new fingerprint and time): read and decoded once per process per build, not per request.
    # The Affected rows are shared by the requests that read them: readers never change them.
    version = tuple((s.rule, s.fingerprint, s.computed_at, s.rows) for s in stored.values())
    entry = (next(iter(stored.values())).tenant_id, limit, tuple(stored))
    engine = session.get_bind().engine
    pages = _FIRST_PAGES.get(engine, entry, version, lambda: _decoded(session, stored, limit))
    return {rule: (list(affected), cursor) for rule, (affected, cursor) in pages.items()}


def _decoded(
    session: Session, stored: dict[FindingRule, FindingSummary], limit: int
) -> dict[FindingRule, tuple[list[Affected], str | None]]:
    rows = _first_rows(session, stored, limit)
    pages: dict[FindingRule, tuple[list[Affected], str | None]] = {}
    for rule, summary in stored.items():
        mine = rows[rule.value]
        more = len(mine) > limit
        mine = mine[:limit]
        next_cursor = cursor_of(summary, mine[-1]) if more and mine else None
        pages[rule] = ([_affected(row) for row in mine], next_cursor)
    return pages


def _first_rows(
    session: Session, stored: dict[FindingRule, FindingSummary], limit: int
) -> dict[str, list[Any]]:
    by_position = [rule.value for rule, summary in stored.items() if not _by_key(summary)]
    rows: dict[str, list[Any]] = {rule.value: [] for rule in stored}
    if by_position:
        tenant_pk = next(iter(stored.values())).tenant_id
        statement = (
            select(ROWS.c.rule, ROWS.c.position, ROWS.c.key, ROWS.c.name, ROWS.c.detail)
            .add_columns(ROWS.c.products, ROWS.c.units, ROWS.c.cost)
            .where(
                ROWS.c.tenant_id == tenant_pk,
                ROWS.c.rule.in_(by_position),
                ROWS.c.position <= limit,
            )
            .order_by(ROWS.c.rule, ROWS.c.position)
        )
        for row in session.execute(statement):
            rows[row.rule].append(row)
    for rule, summary in stored.items():
        if _by_key(summary):
            rows[rule.value] = list(session.execute(_rows(summary, None).limit(limit + 1)))
    return rows


def stream(session: Session, summary: FindingSummary) -> Iterator[Affected]:
    """Every affected row in order, in batches (keyset): an export never holds them all."""
    after: int | str | None = None
    while True:
        rows = list(session.execute(_rows(summary, after).limit(STREAM_BATCH)))
        yield from (_affected(row) for row in rows)
        if len(rows) < STREAM_BATCH:
            return
        after = rows[-1].key if _by_key(summary) else rows[-1].position
