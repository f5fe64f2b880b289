"""Daemon syncs share keep-alive connections (no cookies across tenants); ANALYZE is rationed."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from daemon_fleet import new_keyring, onboard, runs
from sqlalchemy import Engine, event

from emulator_fixtures import EmulatorFactory
from licensewatch.storage.models import SyncStatus
from licensewatch.sync import runner
from licensewatch.sync.daemon import Daemon, DaemonConfig
from licensewatch.sync.http_pool import SharedHttp
from licensewatch.sync.scheduler import SyncOptions


def test_shared_client_refuses_cookies_and_outlives_graph_clients(tmp_path: Path) -> None:
    shared = SharedHttp(concurrency=2)
    client = shared.client(None)
    assert shared.client(None) is client  # one per CA bundle
    request = httpx.Request("GET", "https://login.example.test/t1/oauth2/v2.0/token")
    answer = httpx.Response(200, headers={"Set-Cookie": "fpc=tenant-one; Path=/"}, request=request)
    client.cookies.extract_cookies(answer)
    assert len(client.cookies) == 0  # a tenant's cookie never rides along another's requests
    shared.close()
    with pytest.raises(RuntimeError):
        shared.client(None)


@pytest.mark.postgres
def test_daemon_shares_connections_and_analyzes_once_for_small_tenants(
    make_emulator: EmulatorFactory, postgres_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator = make_emulator(tenants=4, users=10, scenario="msp", seed=12)
    keyring, _ = new_keyring()
    tenants = onboard(postgres_engine, emulator, keyring)
    monkeypatch.setattr(runner, "_analyzed", [float("-inf")])  # as in a fresh process
    analyzed: list[str] = []

    def seen(conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.startswith("ANALYZE"):
            analyzed.append(statement)

    event.listen(postgres_engine, "before_cursor_execute", seen)
    options = SyncOptions(keyring=keyring)
    daemon = Daemon(
        postgres_engine, options, DaemonConfig(concurrency=2, tick_seconds=0.1, once=True)
    )
    assert daemon.run() == 0
    assert {r.tenant_id for r in runs(postgres_engine) if r.status == SyncStatus.COMPLETED} == set(
        tenants.values()
    )
    assert options.http is not None
    with pytest.raises(RuntimeError):  # the daemon closed the connections it opened
        options.http.client(None)
    # Four 10-user tenants: the first full sync analyses, the others leave it to autovacuum.
    assert analyzed == ["ANALYZE users, user_licenses"]
