"""The growth trend's sums per product and UTC day, written at publish and read per request.

A daemon syncing every 15 minutes leaves 8,640 snapshots per product in the trend's 90 days:
aggregating them took each worker's first renewals request 70–140 ms at W5's scale. The days
are summed once, at the publish that adds their snapshots (in its transaction), and a reader
adds up at most ~90 rows per product plus the snapshots of the window's first, partial day.

x is stored in days after the day's midnight, so a reader shifts each day to its own origin
(the window's start), as `renewal_growth` measures x: the slope is the same sum re-centred.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import (
    ColumnElement,
    Connection,
    Float,
    Integer,
    cast,
    delete,
    func,
    insert,
    literal,
    select,
)
from sqlalchemy.orm import Session

from licensewatch.domain.renewal_plan import TrendSums, trend_from_sums
from licensewatch.storage.models import SkuSnapshot
from licensewatch.storage.models.growth import GrowthBuild, GrowthDay

log = logging.getLogger(__name__)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)
_JULIAN_EPOCH = 2440587.5  # julianday('1970-01-01')


@dataclass(frozen=True, slots=True)
class Sums:
    """A SKU's sums over some snapshots, x in days after one origin."""

    n: int
    sum_x: float
    sum_y: float
    sum_xx: float
    sum_xy: float
    min_x: float
    max_x: float

    def __add__(self, other: Sums) -> Sums:
        return Sums(
            self.n + other.n,
            self.sum_x + other.sum_x,
            self.sum_y + other.sum_y,
            self.sum_xx + other.sum_xx,
            self.sum_xy + other.sum_xy,
            min(self.min_x, other.min_x),
            max(self.max_x, other.max_x),
        )

    def trend(self) -> float:
        sums = TrendSums(
            self.n, self.sum_x, self.sum_y, self.sum_xx, self.sum_xy, self.max_x - self.min_x
        )
        return trend_from_sums(sums)


def days_after(start: datetime, dialect: str) -> ColumnElement[float]:
    """A snapshot's time as days after `start`, computed by the database."""
    if dialect == "sqlite":  # naive UTC text (storage/coltypes.py)
        text_start = start.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        return func.julianday(SkuSnapshot.captured_at) - func.julianday(literal(text_start))
    epoch = cast(func.extract("epoch", SkuSnapshot.captured_at), Float)
    return cast((epoch - literal(start.timestamp(), Float)) / 86400.0, Float)


def day_of(when: datetime) -> int:
    """Days since 1970-01-01 UTC (exact: no float)."""
    return (when - EPOCH) // DAY


def _day_and_x(dialect: str) -> tuple[ColumnElement[int], ColumnElement[float]]:
    """A snapshot's UTC day and its time in days after that day's midnight, by the database.

    The day is exact on both engines (SQLite: the date of the stored naive UTC text;
    PostgreSQL: the numeric epoch), so a day's rows and a `captured_at` range agree.
    """
    captured = SkuSnapshot.captured_at
    if dialect == "sqlite":
        date_text = func.substr(captured, 1, 10)
        day = cast(func.julianday(date_text) - _JULIAN_EPOCH, Integer)
        return day, func.julianday(captured) - func.julianday(date_text)
    epoch = func.extract("epoch", captured)
    days = func.floor(epoch / 86400)
    return cast(days, Integer), cast((epoch - days * 86400) / 86400.0, Float)


def publish_growth(connection: Connection, tenant_pk: int) -> None:
    """Bring the tenant's growth days up to its newest snapshot (in a savepoint: a failure is
    logged, undone, and leaves the build naming an older snapshot, so readers aggregate)."""
    try:
        with connection.begin_nested():
            _publish(connection, tenant_pk)
    except Exception:
        log.exception("tenant %s: the renewal growth sums were not stored", tenant_pk)


def _publish(connection: Connection, tenant_pk: int) -> None:
    newest = connection.scalar(
        select(func.max(SkuSnapshot.captured_at)).where(SkuSnapshot.tenant_id == tenant_pk)
    )
    built = connection.execute(
        select(GrowthBuild.newest_at).where(GrowthBuild.tenant_id == tenant_pk)
    ).first()
    # Only the days from the last build's newest snapshot on can have changed (snapshots are
    # added at publish, dated then); the newest's day too, should a clock have gone back.
    since: int | None = None
    if built is not None and built.newest_at is not None and newest is not None:
        since = min(day_of(built.newest_at), day_of(newest))
    stale = delete(GrowthDay).where(GrowthDay.tenant_id == tenant_pk)
    if since is not None:
        stale = stale.where(GrowthDay.day >= since)
    connection.execute(stale)
    rows = list(_day_rows(connection, tenant_pk, since))
    if rows:
        connection.execute(insert(GrowthDay), rows)
    connection.execute(delete(GrowthBuild).where(GrowthBuild.tenant_id == tenant_pk))
    connection.execute(insert(GrowthBuild), [{"tenant_id": tenant_pk, "newest_at": newest}])


def _day_rows(
    connection: Connection, tenant_pk: int, since: int | None
) -> Iterable[dict[str, object]]:
    day, x = _day_and_x(connection.dialect.name)
    y = cast(SkuSnapshot.consumed, Float)
    statement = (
        select(
            SkuSnapshot.sku_id,
            day,
            func.count(),
            func.sum(x),
            func.sum(y),
            func.sum(x * x),
            func.sum(x * y),
            func.min(x),
            func.max(x),
        )
        .where(SkuSnapshot.tenant_id == tenant_pk)
        .group_by(SkuSnapshot.sku_id, day)
    )
    if since is not None:
        statement = statement.where(SkuSnapshot.captured_at >= EPOCH + since * DAY)
    names = ("n", "sum_x", "sum_y", "sum_xx", "sum_xy", "min_x", "max_x")
    for sku_id, number, *sums in connection.execute(statement):
        values = [sums[0]] + [float(v or 0) for v in sums[1:]]
        yield {"tenant_id": tenant_pk, "sku_id": sku_id, "day": number} | dict(
            zip(names, values, strict=True)
        )


def resum_growth(connection: Connection, tenant_pk: int) -> None:
    """Sum every day of the tenant again (its snapshots were moved in time), in the caller's
    transaction."""
    connection.execute(delete(GrowthBuild).where(GrowthBuild.tenant_id == tenant_pk))
    _publish(connection, tenant_pk)


def built_through(session: Session, tenant_pk: int) -> tuple[datetime | None] | None:
    """The newest snapshot the stored days include, when it is the tenant's newest (one
    index lookup each); None when they are not built or stale."""
    newest = (
        select(func.max(SkuSnapshot.captured_at))
        .where(SkuSnapshot.tenant_id == tenant_pk)
        .scalar_subquery()
    )
    built = session.execute(
        select(GrowthBuild.newest_at, newest).where(GrowthBuild.tenant_id == tenant_pk)
    ).first()
    if built is None or built[0] != built[1]:
        return None
    return (built[0],)


def stored_growth(session: Session, tenant_pk: int, start: datetime) -> dict[str, float] | None:
    """SKU id → holders per 30 days over the snapshots from `start` on, from the stored days;
    None when they do not include the tenant's newest snapshot (not built, or stale)."""
    if built_through(session, tenant_pk) is None:
        return None
    return growth_from_days(session, tenant_pk, start)


def growth_from_days(session: Session, tenant_pk: int, start: datetime) -> dict[str, float]:
    """The growth from the stored days (after the window's first) and that day's snapshots."""
    first = day_of(start)
    sums = _partial_day(session, tenant_pk, start, first)
    for sku_id, found in _whole_days(session, tenant_pk, start, first):
        sums[sku_id] = sums[sku_id] + found if sku_id in sums else found
    return {sku_id: found.trend() for sku_id, found in sums.items()}


def _whole_days(
    session: Session, tenant_pk: int, start: datetime, first: int
) -> Iterable[tuple[str, Sums]]:
    """The stored days after the window's first, each moved to x in days after `start`."""
    offset = GrowthDay.day - literal((start - EPOCH) / DAY, Float)
    statement = (
        select(
            GrowthDay.sku_id,
            func.sum(GrowthDay.n),
            func.sum(GrowthDay.sum_x + GrowthDay.n * offset),
            func.sum(GrowthDay.sum_y),
            func.sum(
                GrowthDay.sum_xx + 2 * offset * GrowthDay.sum_x + GrowthDay.n * offset * offset
            ),
            func.sum(GrowthDay.sum_xy + offset * GrowthDay.sum_y),
            func.min(GrowthDay.min_x + offset),
            func.max(GrowthDay.max_x + offset),
        )
        .where(GrowthDay.tenant_id == tenant_pk, GrowthDay.day > first)
        .group_by(GrowthDay.sku_id)
    )
    for sku_id, n, *values in session.execute(statement):
        yield sku_id, Sums(int(n), *(float(v) for v in values))


def _partial_day(session: Session, tenant_pk: int, start: datetime, first: int) -> dict[str, Sums]:
    """The snapshots of the window's first day from `start` on (an index range)."""
    x = days_after(start, session.get_bind().dialect.name)
    y = cast(SkuSnapshot.consumed, Float)
    statement = (
        select(
            SkuSnapshot.sku_id,
            func.count(),
            func.sum(x),
            func.sum(y),
            func.sum(x * x),
            func.sum(x * y),
            func.min(x),
            func.max(x),
        )
        .where(
            SkuSnapshot.tenant_id == tenant_pk,
            SkuSnapshot.captured_at >= start,
            SkuSnapshot.captured_at < EPOCH + (first + 1) * DAY,
        )
        .group_by(SkuSnapshot.sku_id)
    )
    return {
        sku_id: Sums(int(n), *(float(v or 0) for v in values))
        for sku_id, n, *values in session.execute(statement)
    }
