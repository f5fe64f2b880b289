"""Recommendations read model: a tenant's summary (sums by action, product and confidence) and
one row per recommendation in the computed order, written in bulk and read by keyset."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, delete, false, func, insert, or_, select
from sqlalchemy.orm import Session

from licensewatch.domain.renewal_plan import reclaim_counts
from licensewatch.intelligence.read_models import recommendations_totals as totals
from licensewatch.intelligence.recommendations import order_key
from licensewatch.intelligence.recommendations.model import Recommendation
from licensewatch.storage.models.read_models import RecommendationRow, RecommendationSummary
from licensewatch.storage.writers import bulk_insert

ROWS: Table = RecommendationRow.__table__  # type: ignore[assignment]
# In the table's column order: the compiled INSERT lists them so (`storage/writers.py`).
FIELDS: tuple[str, ...] = ("user_principal_name", "display_name", "action", "confidence")
FIELDS += ("sku_id", "sku_part_number", "product_name", "target_sku_id")
FIELDS += ("target_sku_part_number", "target_product_name", "reason", "evidence")
FIELDS += ("monthly_saving", "yearly_saving", "currency")
ROW_COLUMNS = ("tenant_id", "position", "rank", *FIELDS, "sort_key")
STREAM_BATCH = 2000


class StaleCursor(ValueError):
    """A cursor of recommendations recomputed since: the listing must start again."""


@dataclass(frozen=True)
class Group:
    """The recommendations of one action, product and confidence: their count and savings."""

    action: str
    confidence: str
    sku_id: str
    part: str
    product: str
    count: int
    unpriced: int  # of them without a saving (no price)
    monthly: dict[str, Decimal]
    yearly: dict[str, Decimal]


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


# Positions leave room between rows (a delta inserts a changed user's rows in place); they stay
# within PostgreSQL's INTEGER.
HIGHEST = 2**31 - 1
LOWEST = -(2**31)


def spacing(count: int) -> int:
    """The step between the positions of a full build of `count` recommendations."""
    return max(1, min(1 << 16, HIGHEST // (count + 1)))


def sort_key(r: Recommendation) -> bytes:
    """`order_key` as bytes that compare in the same order (savings are whole cents, `rank`;
    the orders of confidence and action one byte each; UTF-8 keeps code point order, and a NUL
    ends the user's name so that a shorter name comes first)."""
    _, confidence, action, upn, part = order_key(
        r.yearly_saving, r.confidence, r.action, r.user_principal_name, r.sku_part_number
    )
    rank = -int((r.yearly_saving or Decimal(0)) * 100)
    head = (rank + 2**63).to_bytes(8, "big") + bytes((confidence, action))
    return head + upn.encode() + b"\0" + part.encode()


def row_tuple(tenant_pk: int, position: int, r: Recommendation) -> tuple[Any, ...]:
    return (
        tenant_pk, position, -int((r.yearly_saving or Decimal(0)) * 100),
        r.user_principal_name, r.display_name, r.action, r.confidence, r.sku_id,
        r.sku_part_number, r.product_name, r.target_sku_id, r.target_sku_part_number,
        r.target_product_name, r.reason,
        json.dumps(r.evidence, separators=(",", ":"), ensure_ascii=False),
        _money(r.monthly_saving), _money(r.yearly_saving), r.currency, sort_key(r),
    )  # fmt: skip


def write_recommendations(
    session: Session,
    tenant_pk: int,
    recs: Sequence[Recommendation],
    *,
    dataset_id: int | None,
    fingerprint: str,
    facts: str | None,
    computed_at: datetime,
    build_ms: int,
    usage_as_of: date | None,
) -> None:
    """Replace a tenant's stored recommendations (bulk: executemany or COPY, no ORM rows)."""
    connection = session.connection()
    connection.execute(delete(ROWS).where(ROWS.c.tenant_id == tenant_pk))
    connection.execute(
        delete(RecommendationSummary).where(RecommendationSummary.tenant_id == tenant_pk)
    )
    groups: totals.Groups = {}
    totals.tally(groups, recs)
    connection.execute(
        insert(RecommendationSummary).values(
            tenant_id=tenant_pk,
            dataset_id=dataset_id,
            fingerprint=fingerprint,
            facts=facts,
            computed_at=computed_at,
            build_ms=build_ms,
            usage_as_of=usage_as_of,
            count=len(recs),
            users=totals.distinct_users(recs),
            totals=totals.encode(groups),
            seats=totals.seats_text(reclaim_counts(recs)),
        )
    )
    step = spacing(len(recs))
    rows = (row_tuple(tenant_pk, i * step, r) for i, r in enumerate(recs))
    bulk_insert(connection, ROWS, ROW_COLUMNS, rows)


def summaries(session: Session, tenant_pks: Sequence[int]) -> dict[int, RecommendationSummary]:
    found = session.scalars(
        select(RecommendationSummary).where(RecommendationSummary.tenant_id.in_(tenant_pks))
    )
    return {summary.tenant_id: summary for summary in found}


def groups_of(summary: RecommendationSummary) -> list[Group]:
    def amounts(data: dict[str, str]) -> dict[str, Decimal]:
        return {currency: Decimal(amount) for currency, amount in data.items()}

    return [
        Group(
            g["a"], g["c"], g["s"], g["p"], g["n"], g["k"], g["u"], amounts(g["m"]), amounts(g["y"])
        )
        for g in json.loads(summary.totals)
    ]


def matching(
    groups: Sequence[Group], action: str | None, confidence: str | None, product: str | None
) -> list[Group]:
    """The groups these filters keep (a product by SKU id, part number or name, any case)."""
    wanted = product.strip().lower() if product else None
    return [
        g
        for g in groups
        if (not action or g.action == action)
        and (not confidence or g.confidence == confidence)
        and (wanted is None or wanted in {g.sku_id.lower(), g.part.lower(), g.product.lower()})
    ]


def where(
    tenant_pks: Sequence[int],
    kept: Sequence[Group],
    *,
    action: str | None = None,
    confidence: str | None = None,
    product: str | None = None,
) -> ColumnElement[bool]:
    """The rows of these tenants the filters keep (`kept`: the groups `matching` kept, whose
    SKUs a product filter resolves to)."""
    condition: ColumnElement[bool] = ROWS.c.tenant_id.in_(list(tenant_pks))
    if action:
        condition = and_(condition, ROWS.c.action == action)
    if confidence:
        condition = and_(condition, ROWS.c.confidence == confidence)
    if product:
        skus = sorted({g.sku_id for g in kept})
        condition = and_(condition, ROWS.c.sku_id.in_(skus)) if skus else false()
    return condition


def distinct_users(session: Session, condition: ColumnElement[bool]) -> int:
    statement = select(
        func.count(func.distinct(ROWS.c.tenant_id.concat(ROWS.c.user_principal_name)))
    )
    return int(session.scalar(statement.where(condition)) or 0)


def _value(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def recommendation_of(row: Any, tenant: str) -> Recommendation:
    return Recommendation(
        tenant, row.user_principal_name, row.display_name, row.action, row.sku_id,
        row.sku_part_number, row.product_name, row.target_sku_id, row.target_sku_part_number,
        row.target_product_name, row.reason, json.loads(row.evidence), row.confidence,
        _value(row.monthly_saving), _value(row.yearly_saving), row.currency,
    )  # fmt: skip


Key = tuple[int, int, int]  # (rank, tenant_id, position): the order across tenants


def _after(key: Key | None, single: bool) -> ColumnElement[bool] | None:
    if key is None:
        return None
    rank, tenant_pk, position = key
    if single:  # one tenant: its positions are in rank order already (the primary key)
        return ROWS.c.position > position
    return or_(
        ROWS.c.rank > rank,
        and_(
            ROWS.c.rank == rank,
            or_(
                ROWS.c.tenant_id > tenant_pk,
                and_(ROWS.c.tenant_id == tenant_pk, ROWS.c.position > position),
            ),
        ),
    )


def rows_after(
    session: Session, condition: ColumnElement[bool], key: Key | None, limit: int, *, single: bool
) -> list[Any]:
    """Up to `limit` rows after the key, most money first, then tenant and position."""
    statement = select(ROWS).where(condition).limit(limit)
    after = _after(key, single)
    if after is not None:
        statement = statement.where(after)
    order = (ROWS.c.position,) if single else (ROWS.c.rank, ROWS.c.tenant_id, ROWS.c.position)
    return list(session.execute(statement.order_by(*order)))


def key_of(row: Any) -> Key:
    return (row.rank, row.tenant_id, row.position)


def stream(session: Session, condition: ColumnElement[bool], *, single: bool) -> Iterator[Any]:
    """Every row the condition keeps in order, in batches (keyset): never all held at once."""
    key: Key | None = None
    while True:
        rows = rows_after(session, condition, key, STREAM_BATCH, single=single)
        yield from rows
        if len(rows) < STREAM_BATCH:
            return
        key = key_of(rows[-1])


def seat_counts(summary: RecommendationSummary) -> dict[str, tuple[int, int]]:
    """SKU id → (seats the recommendations free, seats downgrades bring), as stored at build."""
    return {sku: (freed, incoming) for sku, (freed, incoming) in json.loads(summary.seats).items()}
