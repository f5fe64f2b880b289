"""Findings read model: each rule's summary row and its affected rows, written and read."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, insert, select
from sqlalchemy.orm import Session

from licensewatch.intelligence.findings.base import Affected, Finding, FindingRule
from licensewatch.intelligence.read_models.codec import (
    cost_text,
    cost_value,
    names_text,
    names_value,
)
from licensewatch.storage.models.read_models import FindingRow, FindingSummary
from licensewatch.storage.writers import bulk_insert

SUMMARIES: Table = FindingSummary.__table__  # type: ignore[assignment]
ROWS: Table = FindingRow.__table__  # type: ignore[assignment]
ROW_COLUMNS: tuple[str, ...] = ("tenant_id", "rule", "position", "key", "name", "detail")
ROW_COLUMNS += ("products", "units", "cost")
STREAM_BATCH = 2000


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
    rows = (
        (
            *(tenant_pk, rule, position, str(a.key), a.name, a.detail, names_text(a.products)),
            *(a.units, cost_text(a.cost)),
        )
        for position, a in enumerate(finding.affected)
    )
    bulk_insert(connection, ROWS, ROW_COLUMNS, rows)


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


def cursor_of(summary: FindingSummary, position: int) -> str:
    """An opaque cursor: the build it belongs to and the last position read."""
    return f"{summary.fingerprint[:16]}.{position}"


def position_of(summary: FindingSummary, cursor: str | None) -> int:
    """The position after which a cursor's page starts (-1: the first page)."""
    if not cursor:
        return -1
    build, _, position = cursor.partition(".")
    if not position.isdigit():
        raise ValueError(f"cursor {cursor!r} is not one this API returned")
    if build != summary.fingerprint[:16]:
        raise StaleCursor("the findings were recomputed since this cursor: start again")
    return int(position)


def page(
    session: Session, summary: FindingSummary, *, cursor: str | None, limit: int | None
) -> tuple[list[Affected], str | None]:
    """Affected rows after the cursor (keyset on the primary key) and the next page's cursor."""
    after = position_of(summary, cursor)
    statement = (
        select(ROWS.c.position, ROWS.c.key, ROWS.c.name, ROWS.c.detail, ROWS.c.products)
        .add_columns(ROWS.c.units, ROWS.c.cost)
        .where(
            ROWS.c.tenant_id == summary.tenant_id,
            ROWS.c.rule == summary.rule,
            ROWS.c.position > after,
        )
        .order_by(ROWS.c.position)
    )
    if limit is None:
        return [_affected(row) for row in session.execute(statement)], None
    rows = list(session.execute(statement.limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = cursor_of(summary, rows[-1].position) if more and rows else None
    return [_affected(row) for row in rows], next_cursor


def first_pages(
    session: Session, stored: dict[FindingRule, FindingSummary], limit: int
) -> dict[FindingRule, tuple[list[Affected], str | None]]:
    """The first page of every rule in one query: positions are dense from 0, so the rows at
    positions 0..limit are each rule's page and the probe for a next one."""
    rows: dict[str, list[Any]] = {rule.value: [] for rule in stored}
    if stored:
        tenant_pk = next(iter(stored.values())).tenant_id
        statement = (
            select(ROWS.c.rule, ROWS.c.position, ROWS.c.key, ROWS.c.name, ROWS.c.detail)
            .add_columns(ROWS.c.products, ROWS.c.units, ROWS.c.cost)
            .where(
                ROWS.c.tenant_id == tenant_pk,
                ROWS.c.rule.in_(list(rows)),
                ROWS.c.position <= limit,
            )
            .order_by(ROWS.c.rule, ROWS.c.position)
        )
        for row in session.execute(statement):
            rows[row.rule].append(row)
    pages: dict[FindingRule, tuple[list[Affected], str | None]] = {}
    for rule, summary in stored.items():
        mine = rows[rule.value]
        more = len(mine) > limit
        mine = mine[:limit]
        next_cursor = cursor_of(summary, mine[-1].position) if more and mine else None
        pages[rule] = ([_affected(row) for row in mine], next_cursor)
    return pages


def stream(session: Session, summary: FindingSummary) -> Iterator[Affected]:
    """Every affected row in order, in batches (keyset): an export never holds them all."""
    after = -1
    while True:
        statement = (
            select(ROWS.c.position, ROWS.c.key, ROWS.c.name, ROWS.c.detail, ROWS.c.products)
            .add_columns(ROWS.c.units, ROWS.c.cost)
            .where(
                ROWS.c.tenant_id == summary.tenant_id,
                ROWS.c.rule == summary.rule,
                ROWS.c.position > after,
            )
            .order_by(ROWS.c.position)
            .limit(STREAM_BATCH)
        )
        rows = list(session.execute(statement))
        yield from (_affected(row) for row in rows)
        if len(rows) < STREAM_BATCH:
            return
        after = rows[-1].position
