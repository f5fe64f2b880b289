"""A worker's warm-up reads what the dashboard reads before its first request, and a database it
cannot read (not migrated) leaves the worker starting cold rather than failing."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine

from database_fixtures import add_tenant
from licensewatch.settings import Settings
from licensewatch.web import create_app
from licensewatch.web.queries import trends
from licensewatch.web.warm_up import warm_reads, warm_up
from web_seed import seed_inventory


def test_the_dashboard_is_read_before_the_first_request(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    tenant_pk = add_tenant(engine, "contoso")
    seed_inventory(engine, "contoso")
    app = create_app(Settings(home=tmp_path / "home", database_url=database_url), engine=engine)
    kept = trends._SERIES._kept  # the memo is what the warm-up fills
    assert tenant_pk not in kept.get(engine, {})
    asyncio.run(warm_up(app, engine))
    assert tenant_pk in kept.get(engine, {}), "the sparklines were read at start"


def test_an_unreadable_database_leaves_the_worker_cold(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    empty = create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        warm_reads(empty)
    finally:
        empty.dispose()
    assert "warm-up read failed" in caplog.text
