""" "Sync now" sees syncs of other processes: a live lease held elsewhere means "running"."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from licensewatch.storage.database import make_engine, session_scope
from licensewatch.storage.models import Tenant
from licensewatch.sync import leases
from licensewatch.web.background import SyncLauncher
from web_fixtures import SyncRecorder, add_contoso, make_settings


def test_a_lease_held_by_another_process_shows_running_and_blocks_a_second_sync(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path)
    engine = make_engine(settings.database_url)
    try:
        add_contoso(engine, settings)
        with session_scope(engine, write=False) as session:
            tenant_pk = session.scalars(select(Tenant.id)).one()
        leases.ensure_schedules(engine)
        recorder = SyncRecorder()
        launcher = SyncLauncher(engine, settings, recorder)
        assert launcher.running() == set()
        # Another worker's "Sync now" (or the daemon) holds the tenant's lease.
        other = leases.new_owner("web")
        assert leases.claim(engine, tenant_pk, other, timedelta(minutes=5)) is not None
        assert launcher.running() == {"contoso"}
        assert launcher.launch("contoso") is False
        launcher.join(5)
        assert recorder.calls == []
        # Released (or expired): this worker may start one.
        assert leases.release(engine, tenant_pk, other)
        assert launcher.running() == set()
        assert launcher.launch("contoso") is True
        launcher.join(5)
        assert recorder.calls == ["contoso"]
    finally:
        engine.dispose()
