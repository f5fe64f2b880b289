"""A holders page of the stored list is one range of its primary key, on both engines."""

from __future__ import annotations

from sqlalchemy import Engine, insert, text, update

from database_fixtures import add_tenant
from licensewatch.intelligence.read_models.holders_store import publish_holders
from licensewatch.storage.database import session_scope
from licensewatch.storage.models import Sku, SyncRun, SyncStatus, Tenant, User, UserLicense
from licensewatch.storage.models.base import utcnow
from licensewatch.web.queries.holders import stored_page

SKUS = [f"11111111-0000-4000-8000-{n:012d}" for n in range(20)]
USERS = 400


def _seed(engine: Engine) -> int:
    tenant = add_tenant(engine, "contoso")
    with session_scope(engine) as session:
        run = SyncRun(tenant_id=tenant, status=SyncStatus.COMPLETED, started_at=utcnow())
        session.add(run)
        session.flush()
        dataset = run.id
    with engine.begin() as db:
        db.execute(
            insert(Sku),
            [{"tenant_id": tenant, "sku_id": sku, "sku_part_number": f"P{n}"}
             for n, sku in enumerate(SKUS)],
        )  # fmt: skip
        db.execute(
            insert(User),
            [{"dataset_id": dataset, "id": f"00000000-0000-4000-8000-{n:012d}",
              "tenant_id": tenant, "user_principal_name": f"user{n:04d}@contoso.example"}
             for n in range(USERS)],
        )  # fmt: skip
        db.execute(
            insert(UserLicense),
            [{"dataset_id": dataset, "user_id": f"00000000-0000-4000-8000-{n:012d}",
              "sku_id": SKUS[(n + k) % len(SKUS)], "state": "Active"}
             for n in range(USERS) for k in range(3)],
        )  # fmt: skip
        db.execute(update(Tenant).where(Tenant.id == tenant).values(dataset_id=dataset))
    with engine.begin() as connection:
        publish_holders(connection, tenant)
        connection.exec_driver_sql("ANALYZE")
    return dataset


def _plan(engine: Engine, dataset: int, position: tuple[int, str, str] | None) -> str:
    statement = stored_page(dataset, SKUS[3], position, 52)
    with session_scope(engine, write=False) as session:
        dialect = session.get_bind().dialect
        if dialect.name == "sqlite":
            compiled = statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True})
            rows = session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")).all()
            return "\n".join(str(row[-1]) for row in rows)
        compiled = statement.compile(dialect=dialect)
        connection = session.connection()
        # A small table: a sort of its 60 rows is cheaper. Whether an ordered index path exists
        # is what counts at 300k users: with the others off, PostgreSQL takes it if there is one.
        for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
            connection.exec_driver_sql(f"SET LOCAL {setting} = off")
        rows = connection.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params).all()
        return "\n".join(str(row[0]) for row in rows)


def test_a_holders_page_reads_a_range_of_the_stored_list(engine: Engine) -> None:
    dataset = _seed(engine)
    middle = (1, "user0200@contoso.example", "00000000-0000-4000-8000-000000000200")
    for position in (None, middle):
        plan = _plan(engine, dataset, position)
        if engine.dialect.name == "sqlite":
            assert (
                "SEARCH product_holders USING COVERING INDEX sqlite_autoindex_product_holders_1"
                in plan
            ), plan
            assert "TEMP B-TREE" not in plan, plan  # the index gives the order: no sort
        else:
            assert "pk_product_holders" in plan, plan
            assert "Sort" not in plan, plan
            assert "Seq Scan" not in plan, plan
