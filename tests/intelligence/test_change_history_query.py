"""The change history read model: tenants merged newest first, pages, keyset export chunks."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, insert

from database_fixtures import add_tenant
from licensewatch.intelligence.history import ChangeQuery, change_history, every_change
from licensewatch.storage.database import session_scope
from licensewatch.storage.models import LicenceChange, SyncRun, SyncStatus, utcnow

E3 = "6fd2c87f-b296-42f0-b197-1e91e994b900"


def _history(engine: Engine) -> None:
    """Two tenants; each run's changes share one moment (as a sync writes them)."""
    now = utcnow()
    for name, offset in (("alpha", 0), ("beta", 30)):
        tenant = add_tenant(engine, name)
        with session_scope(engine) as session:
            run = SyncRun(tenant_id=tenant, status=SyncStatus.COMPLETED)
            session.add(run)
            session.flush()
            run_id = run.id
        rows = [
            {
                "tenant_id": tenant,
                "run_id": run_id,
                "occurred_at": now - timedelta(minutes=offset + 60 * (index // 5)),
                "kind": "licence_added",
                "user_id": f"{name}-{index}",
                "user_principal_name": f"user{index}@{name}.example",
                "sku_id": E3,
            }
            for index in range(12)
        ]
        with engine.begin() as connection:
            connection.execute(insert(LicenceChange), rows)


def test_tenants_merge_newest_first_and_page(engine: Engine) -> None:
    _history(engine)
    with session_scope(engine, write=False) as session:
        everything = change_history(session, ChangeQuery(), limit=100)
        assert len(everything) == 24
        keys = [(c.occurred_at, c.id) for c in everything]
        assert keys == sorted(keys, reverse=True)
        assert {c.tenant for c in everything[:5]} == {"alpha"}  # alpha's newest run is newer
        pages = [change_history(session, ChangeQuery(), limit=7, offset=o) for o in (0, 7, 14, 21)]
        assert [c.id for page in pages for c in page] == [c.id for c in everything]
        assert everything[0].product == E3  # no SKU row, no catalogue: the id is all we know


def test_export_reads_every_change_once_across_chunks(engine: Engine) -> None:
    _history(engine)
    with session_scope(engine, write=False) as session:
        # Chunks of 4 end inside runs whose changes share one moment: the keyset must go on.
        exported = list(every_change(session, ChangeQuery(), chunk=4))
        assert len(exported) == 24
        assert len({c.id for c in exported}) == 24
        assert [c.tenant for c in exported] == ["alpha"] * 12 + ["beta"] * 12
        beta = list(every_change(session, ChangeQuery(tenant="beta"), chunk=5))
        assert [c.id for c in beta] == [c.id for c in exported[12:]]
