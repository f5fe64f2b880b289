"""The web's read models timed in-process at several sizes: does a request grow with the tenant?

`python -m benchmarks.web_readmodels [--sizes 300000,1000000] [--databases sqlite,postgresql]`
builds W5's tenant (benchmarks/webdata.py) in a throw-away database and times each list and
page query one request at a time, each in its own read session as a request has (median and
maximum of 7), printing one Markdown row per query. No server, no clients: the query's own cost.
The stored recommendations are built first as a publish builds them (its time is printed), then
read as the Savings page, the dashboard card and the recommendations API read them
(`benchmarks/web_savings.py` times those requests through the app, before and after).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from benchmarks.databases import each_size_and_engine, postgres_database, sqlite_database
from benchmarks.webdata import build_web
from licensewatch.intelligence.history import ChangeQuery, change_history
from licensewatch.intelligence.read_models.recommendations_build import publish_recommendations
from licensewatch.intelligence.renewals import renewal_plans
from licensewatch.intelligence.savings import Filters, tenant_savings
from licensewatch.storage.database import make_engine, session_scope, write_transaction
from licensewatch.storage.models import Sku
from licensewatch.web.app import WEB_POOLING
from licensewatch.web.queries.balance import balance_rows, trends
from licensewatch.web.queries.changes import change_page
from licensewatch.web.queries.common import TenantRef, tenant_refs
from licensewatch.web.queries.holders import holders
from licensewatch.web.queries.products import history
from licensewatch.web.queries.runs import sync_runs
from licensewatch.web.queries.user_list import UserFilter, search_users

Case = Callable[[Session, TenantRef], Any]


def _cases(session: Session, ref: TenantRef) -> dict[str, Case]:
    counts = Sku.direct_assigned + Sku.group_assigned
    skus = sorted(session.execute(select(Sku.sku_id, counts)).all(), key=lambda r: r[1])
    small = next(sku for sku, held in skus if held > 0)
    big = skus[-1][0]
    users = search_users(session, [ref], UserFilter())
    first_holders = holders(session, ref, big)
    some = users.items[len(users.items) // 2].id
    every = UserFilter()

    def savings(filters: Filters, limit: int) -> Case:
        return lambda s, r: tenant_savings(s.get_bind().engine, [r.name], filters, limit=limit)

    return {
        "users page 1": lambda s, r: search_users(s, [r], every),
        "users next page (cursor)": lambda s, r: search_users(
            s, [r], every, cursor=users.next_cursor or ""
        ),
        "users offset 10,000": lambda s, r: search_users(s, [r], every, offset=10_000),
        "users search 'user0001'": lambda s, r: search_users(s, [r], UserFilter("user0001")),
        "users unlicensed": lambda s, r: search_users(s, [r], UserFilter(licensed="no")),
        "users department nobody has": lambda s, r: search_users(
            s, [r], UserFilter(department="none")
        ),
        "holders most-held product": lambda s, r: holders(s, r, big),
        "holders next page (cursor)": lambda s, r: holders(
            s, r, big, cursor=first_holders.next_cursor or ""
        ),
        "holders least-held product": lambda s, r: holders(s, r, small),
        "holders search 'user0001'": lambda s, r: holders(s, r, big, search="user0001"),
        "balance rows": lambda s, r: balance_rows(s, r.name),
        "dashboard trends": lambda s, r: trends(s, None),
        "product history": lambda s, r: history(s, r, big),
        "sync runs page": lambda s, r: sync_runs(s, [r]),
        "changes page": lambda s, r: change_page(s, ChangeQuery(tenant=r.name)),
        "user's changes": lambda s, r: change_history(
            s, ChangeQuery(tenant=r.name, user_id=some), limit=20
        ),
        "product's changes": lambda s, r: change_history(
            s, ChangeQuery(tenant=r.name, sku_id=big), limit=20
        ),
        # The stored recommendations (their own snapshot, as the Savings page reads them).
        "savings page (sums + 100)": savings(Filters(), 100),
        "savings page, action=remove": savings(Filters(action="remove"), 100),
        "dashboard savings card": savings(Filters(), 0),
        "recommendations API (1,000)": savings(Filters(), 1000),
        "renewal plan (reclaimable from them)": lambda s, r: renewal_plans(
            s.get_bind().engine, r.name
        ),
    }


def run(kind: str, users: int, folder: Path) -> None:
    database = postgres_database() if kind == "postgresql" else sqlite_database(folder)
    with database as url:
        engine = make_engine(url)
        started = time.perf_counter()
        pk = build_web(engine, users)
        print(f"\n{kind}, {users:,} users (built in {time.perf_counter() - started:.0f} s)\n")
        started = time.perf_counter()
        with write_transaction(engine) as connection:  # as a publish builds them
            publish_recommendations(connection, pk)
        print(f"recommendations stored in {time.perf_counter() - started:.1f} s\n")
        engine.dispose()
        engine = make_engine(url, upgrade=False, pooling=WEB_POOLING)  # as a web worker reads
        try:
            with session_scope(engine, write=False) as session:
                cases = _cases(session, tenant_refs(session, "bench")[0])
            print("| database | users | read model | median ms | max ms |\n|---|---|---|---|---|")
            for name, case in cases.items():
                took = []
                for _ in range(7):
                    with session_scope(engine, write=False) as session:
                        ref = tenant_refs(session, "bench")[0]
                        began = time.perf_counter()
                        case(session, ref)
                        took.append((time.perf_counter() - began) * 1000)
                median, worst = statistics.median(took), max(took)
                print(f"| {kind} | {users:,} | {name} | {median:.1f} | {worst:.1f} |", flush=True)
        finally:
            engine.dispose()


def main(argv: list[str] | None = None) -> int:
    return each_size_and_engine(
        "python -m benchmarks.web_readmodels", __doc__, "300000,1000000", run, argv
    )


if __name__ == "__main__":
    raise SystemExit(main())
