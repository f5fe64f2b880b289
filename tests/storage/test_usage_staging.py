"""Staged report rows merged in SQL give exactly what merging the parsed files in memory gave."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select

from database_fixtures import add_tenant
from licensewatch.domain.usage_csv import WORKLOADS, ActiveUserRow, AppUserRow, MailboxRow
from licensewatch.domain.usage_tally import UsageTally
from licensewatch.storage.database import read_transaction, write_transaction
from licensewatch.storage.models.usage import UsageStaging, UserUsage
from licensewatch.storage.usage_staging import (
    COLUMNS,
    Stager,
    date_encoder,
    drop,
    merge,
    new_attempt,
)
from licensewatch.sync import usage_staging as streaming

_COLUMNS = [c.name for c in UserUsage.__table__.columns if c.name != "tenant_id"]


def _blank(key: str, deleted: bool) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(_COLUMNS)
    row.update(user_principal_name=key, is_deleted=deleted, apps_seen=False, mailbox_seen=False)
    row.update(windows=False, mac=False, mobile=False, web=False)
    return row


def _reference(
    active: list[ActiveUserRow], apps: list[AppUserRow], boxes: list[MailboxRow]
) -> dict[str, dict[str, Any]]:
    """The in-memory merge the collection used before staging (sync/usage.py `_merge`)."""
    rows: dict[str, dict[str, Any]] = {}

    def row_for(upn: str, deleted: bool = False) -> dict[str, Any] | None:
        key = upn.strip().lower()[:400]
        if not key:
            return None
        row = rows.get(key)
        if row is None:
            row = rows[key] = _blank(key, deleted)
        elif row["is_deleted"] and not deleted:
            row.update(_blank(key, False))
        elif deleted and not row["is_deleted"]:
            return None
        return row

    for item in active:
        if (row := row_for(item.upn, item.is_deleted)) is not None:
            row.update(
                display_name=item.display_name[:400] or None, report_refresh_date=item.refresh
            )
            for workload, when in zip(WORKLOADS, item[4:], strict=True):
                row[f"{workload}_last"] = when
    for app in apps:
        if (row := row_for(app.upn)) is not None:
            row.update(apps_seen=True, apps_last=app.last_activity, windows=app.windows)
            row.update(mac=app.mac, mobile=app.mobile, web=app.web)
            row["apps_used"] = ",".join(app.apps)[:200] or None
    for box in boxes:
        if (row := row_for(box.upn, box.is_deleted)) is not None:
            row.update(mailbox_seen=True, mailbox_last=box.last_activity)
            row.update(storage_used_bytes=box.storage_used, item_count=box.item_count)
            row["prohibit_send_receive_quota_bytes"] = box.prohibit_send_receive_quota
    return rows


def _world(rng: random.Random) -> tuple[list[ActiveUserRow], list[AppUserRow], list[MailboxRow]]:
    # Few names, so that the same user shows up deleted and live, twice in a report, in one
    # report only, with different case or spaces around the name, or not at all ("" or blanks).
    names = ["", "  ", *(f"user{i}@contoso.com" for i in range(12))]

    def name() -> str:
        picked = rng.choice(names)
        return rng.choice([picked, picked.upper(), f" {picked} "])

    def day() -> date | None:
        return rng.choice([None, date(2026, 11, 30) - timedelta(days=rng.randrange(200))])

    refresh = date(2026, 11, 30)
    active = [
        ActiveUserRow(
            refresh,
            name(),
            rng.choice(["", "Anna"]),
            rng.random() < 0.3,
            *(day() for _ in range(6)),
        )
        for _ in range(rng.randrange(25))
    ]
    apps = [
        AppUserRow(
            refresh,
            name(),
            day(),
            day(),
            rng.random() < 0.5,
            rng.random() < 0.5,
            rng.random() < 0.5,
            rng.random() < 0.5,
            tuple(rng.sample(("outlook", "word", "teams"), rng.randrange(4))),
        )
        for _ in range(rng.randrange(25))
    ]
    boxes = [
        MailboxRow(
            refresh,
            name(),
            "A",
            rng.random() < 0.3,
            day(),
            rng.choice([None, 5]),
            rng.choice([None, 2**40]),
            rng.choice([None, 2**36]),
        )
        for _ in range(rng.randrange(25))
    ]
    return active, apps, boxes


@pytest.mark.parametrize("seed", range(12))
def test_the_sql_merge_equals_the_in_memory_merge(engine: Engine, seed: int) -> None:
    rng = random.Random(seed)
    active, apps, boxes = _world(rng)
    pk = add_tenant(engine, f"t{seed}")
    attempt = new_attempt(datetime(2026, 12, 3, tzinfo=UTC))
    tally, day = UsageTally(), date_encoder(engine)
    stager = Stager(engine, batch=7)  # several batches, and some rows left for the merge
    staged = (
        (0, streaming.active_values(active, tally, day)),
        (1, streaming.app_values(apps, tally, day)),
        (2, streaming.mailbox_values(boxes, tally, day)),
    )
    for number, values_of in staged:
        batch = []
        for seq, (upn, deleted, values) in enumerate(values_of):
            if key := upn.strip().lower()[:400]:
                batch.append((attempt, number, seq, pk, key, deleted, *values))
        for row in batch:
            stager.add(number, row)
    with write_transaction(engine) as db:
        stager.finish(db)
        merged = merge(db, pk, attempt)
        drop(db, attempt)
    expected = _reference(active, apps, boxes)
    with read_transaction(engine) as db:
        stored = {
            row.user_principal_name: {c: getattr(row, c) for c in _COLUMNS}
            for row in db.execute(select(UserUsage).where(UserUsage.tenant_id == pk))
        }
        assert db.execute(select(UsageStaging)).first() is None
    assert merged == len(expected)
    assert stored == expected


def test_staged_columns_follow_the_table_order() -> None:
    # SQLite's bulk INSERT binds positionally in the table's column order (storage/writers.py).
    table = [column.name for column in UsageStaging.__table__.columns]
    for names in COLUMNS.values():
        assert list(names) == [name for name in table if name in names]
