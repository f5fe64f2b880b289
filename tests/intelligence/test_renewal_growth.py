"""The renewal plan's growth: database sums equal the slope of the snapshots, on both engines,
and a publish (the tenant row updated) makes the next request see the new snapshots."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, update

from licensewatch.domain.renewal_plan import trend_per_month
from licensewatch.intelligence.renewal_growth import growth_per_month
from licensewatch.storage.database import session_scope
from licensewatch.storage.models import SkuSnapshot, SyncRun, Tenant, utcnow

SKU = "05e9a617-0261-4cee-bb44-138d3ef5d965"


def _snapshot(engine: Engine, tenant_pk: int, days_ago: float, consumed: int) -> None:
    when = utcnow() - timedelta(days=days_ago)
    with session_scope(engine) as session:
        run = SyncRun(tenant_id=tenant_pk, status="completed", started_at=when, finished_at=when)
        session.add(run)
        session.flush()
        session.add(
            SkuSnapshot(
                run_id=run.id,
                sku_id=SKU,
                tenant_id=tenant_pk,
                captured_at=when,
                enabled=500,
                warning=0,
                suspended=0,
                locked_out=0,
                consumed=consumed,
            )
        )


def test_growth_is_the_slope_and_follows_a_publish(engine: Engine) -> None:
    with session_scope(engine) as session:
        tenant = Tenant(name="contoso", directory_id="contoso.example", client_id="c" * 36)
        session.add(tenant)
        session.flush()
        tenant_pk = tenant.id
    points = [(80.0, 100), (60.5, 104), (40.25, 111), (20.0, 115), (0.5, 121)]
    for days_ago, consumed in points:
        _snapshot(engine, tenant_pk, days_ago, consumed)
    now = utcnow()
    expected = trend_per_month([(now - timedelta(days=d), c) for d, c in points])
    with session_scope(engine, write=False) as session:
        got = growth_per_month(session, session.get_one(Tenant, tenant_pk), now)
    assert got[SKU] == pytest.approx(expected, abs=1e-3)
    assert expected > 0

    # A sync adds a snapshot and publishes (the tenant row changes): the next read sees it.
    _snapshot(engine, tenant_pk, 0.1, 400)
    with session_scope(engine, write=False) as session:
        same = growth_per_month(session, session.get_one(Tenant, tenant_pk), now)
    assert same == got  # nothing published yet: the kept answer
    with session_scope(engine) as session:
        session.execute(update(Tenant).where(Tenant.id == tenant_pk).values(delta_link="next"))
    with session_scope(engine, write=False) as session:
        after = growth_per_month(session, session.get_one(Tenant, tenant_pk), now)
    assert after[SKU] > got[SKU] + 10
