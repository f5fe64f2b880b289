"""The per-process memos of the dashboard's sparklines and the findings' first pages: a change
written through another engine (another worker process's connections) is seen on the next read."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select, update

from database_fixtures import add_tenant
from licensewatch.intelligence.prices import set_price
from licensewatch.intelligence.read_models.build import publish_read_models
from licensewatch.intelligence.read_models.findings_store import USER_RULES
from licensewatch.intelligence.read_models.readers import stored_findings
from licensewatch.storage.database import make_engine, session_scope, write_transaction
from licensewatch.storage.models import SkuSnapshot, SyncRun, SyncStatus, utcnow
from licensewatch.storage.models.read_models import FindingRow, FindingSummary
from licensewatch.storage.process_memo import ProcessMemo
from licensewatch.web.queries.trends import trends
from web_seed import seed_inventory

SKU = "05e9a617-0261-4cee-bb44-138d3ef5d965"


@pytest.fixture
def other(database_url: str, engine: Engine) -> Iterator[Engine]:
    """A second engine on the same database: what another worker process writes through."""
    second = make_engine(database_url, upgrade=False)
    try:
        yield second
    finally:
        second.dispose()


def _run(engine: Engine, tenant_pk: int, hours_ago: float, consumed: int) -> int:
    when = utcnow() - timedelta(hours=hours_ago)
    with session_scope(engine) as session:
        run = SyncRun(
            tenant_id=tenant_pk, status=SyncStatus.COMPLETED, started_at=when, finished_at=when
        )
        session.add(run)
        session.flush()
        session.add(
            SkuSnapshot(run_id=run.id, sku_id=SKU, tenant_id=tenant_pk, captured_at=when,
                        enabled=50, warning=1, suspended=0, locked_out=0, consumed=consumed)
        )  # fmt: skip
        return run.id


def _consumed(engine: Engine, points: int = 30) -> list[int]:
    with session_scope(engine, write=False) as session:
        return [point[2] for point in trends(session, points=points).get(("contoso", SKU), [])]


def test_sparklines_follow_runs_written_elsewhere(engine: Engine, other: Engine) -> None:
    tenant_pk = add_tenant(engine)
    first = _run(other, tenant_pk, 5, 10)
    _run(other, tenant_pk, 4, 11)
    assert _consumed(engine) == [10, 11]
    assert _consumed(engine) == [10, 11]  # kept: the same runs
    third = _run(other, tenant_pk, 3, 12)
    assert _consumed(engine) == [10, 11, 12]  # a new completed run: read again
    assert _consumed(engine, points=2) == [11, 12]

    with session_scope(other) as session:  # a failed run's rows never show; a deleted run goes
        session.execute(update(SyncRun).where(SyncRun.id == third).values(status=SyncStatus.FAILED))
    assert _consumed(engine) == [10, 11]

    # `licensewatch demo` re-dates a run and its snapshots: older than 90 days, it drops out.
    old = utcnow() - timedelta(days=120)
    with session_scope(other) as session:
        session.execute(
            update(SyncRun).where(SyncRun.id == first).values(started_at=old, finished_at=old)
        )
        session.execute(
            update(SkuSnapshot).where(SkuSnapshot.run_id == first).values(captured_at=old)
        )
    assert _consumed(engine) == [11]


def test_each_engine_keeps_its_own_database(engine: Engine, tmp_path: object) -> None:
    tenant_pk = add_tenant(engine)
    _run(engine, tenant_pk, 1, 7)
    assert _consumed(engine) == [7]
    fresh = make_engine("sqlite://")  # another database with the same run ids: not mixed up
    try:
        assert _consumed(fresh) == []
        assert add_tenant(fresh) == tenant_pk
        _run(fresh, tenant_pk, 1, 9)
        assert _consumed(fresh) == [9]
        assert _consumed(engine) == [7]
    finally:
        fresh.dispose()


def _findings(engine: Engine, limit: int = 5) -> list[dict[str, object]]:
    return [f.to_dict() for f in stored_findings(engine, "bench", limit=limit)]


def test_findings_first_pages_follow_changes_made_elsewhere(
    database_url: str, engine: Engine, other: Engine
) -> None:
    tenant_pk = add_tenant(engine, "bench")
    seed_inventory(engine, "bench", users=60)
    with write_transaction(engine) as connection:
        publish_read_models(connection, tenant_pk)
    first = _findings(engine)
    assert _findings(engine) == first  # kept: the same builds

    # Another process prices a product: the rules rebuild, and the next read shows the money.
    set_price(other, "ENTERPRISEPACK", "23.00", "EUR", "monthly")
    after = _findings(engine)
    assert after != first
    fresh = make_engine(database_url, upgrade=False)  # a process that never read them
    try:
        assert after == _findings(fresh)
        # A row rewritten in place with its summary (as a delta publish does) is seen too.
        with session_scope(other) as session:
            summary = session.scalars(
                select(FindingSummary).where(
                    FindingSummary.rule.in_(USER_RULES), FindingSummary.rows > 0
                )
            ).first()
            assert summary is not None
            session.execute(
                update(FindingRow)
                .where(FindingRow.tenant_id == tenant_pk, FindingRow.rule == summary.rule)
                .values(detail="rewritten")
            )
            summary.computed_at = utcnow()
        rewritten = _findings(engine)
        assert rewritten == _findings(fresh)
        assert any(a["detail"] == "rewritten" for f in rewritten for a in f["affected"])  # type: ignore[attr-defined]
        assert _findings(engine, limit=2) == _findings(fresh, limit=2)
    finally:
        fresh.dispose()


def test_a_memo_keeps_one_version_per_entry_and_a_bounded_number(engine: Engine) -> None:
    memo: ProcessMemo[int] = ProcessMemo(max_entries=2)
    loads: list[str] = []

    def load(value: int, name: str) -> Callable[[], int]:
        def read() -> int:
            loads.append(name)
            return value

        return read

    assert memo.get(engine, "a", 1, load(10, "a1")) == 10
    assert memo.get(engine, "a", 1, load(99, "again")) == 10  # the same version: kept
    assert memo.get(engine, "a", 2, load(20, "a2")) == 20  # another version: read again
    assert memo.get(engine, "b", 1, load(30, "b1")) == 30
    assert memo.get(engine, "c", 1, load(40, "c1")) == 40  # a third entry: the oldest goes
    assert memo.get(engine, "a", 2, load(21, "a2 again")) == 21
    assert loads == ["a1", "a2", "b1", "c1", "a2 again"]
