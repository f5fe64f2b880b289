"""`/healthz` answers 200 only when the database answers and the loop ticks; `/metrics` renders."""

from __future__ import annotations

import json
import time

from daemon_fleet import http_get
from sqlalchemy import Engine

from licensewatch.observability.health import Health
from licensewatch.observability.server import MetricsServer
from licensewatch.observability.sync_metrics import SyncMetrics
from licensewatch.storage.database import make_engine
from licensewatch.storage.models import SyncStatus
from licensewatch.sync.runner import SyncResult


def test_healthz_follows_database_and_loop(engine: Engine) -> None:
    health = Health(engine, max_silence=0.3)
    metrics = SyncMetrics()
    metrics.observe("t1", "completed", SyncResult(1, SyncStatus.COMPLETED, duration_ms=1500))
    server = MetricsServer("127.0.0.1", 0, metrics.registry, health.check)
    try:
        code, body = http_get(server.url + "/healthz")
        assert code == 200
        assert json.loads(body)["database"] == {"ok": True}
        code, body = http_get(server.url + "/metrics")
        assert code == 200
        assert (
            'licensewatch_sync_duration_seconds_bucket{kind="full",le="2.5",outcome="completed"} 1'
            in body
        )
        assert http_get(server.url + "/nope")[0] == 404
        time.sleep(0.4)  # the loop stopped ticking
        code, body = http_get(server.url + "/healthz")
        assert code == 503
        assert json.loads(body)["loop"]["ok"] is False
        health.tick()
        assert http_get(server.url + "/healthz")[0] == 200
        health.stopping = True
        assert http_get(server.url + "/healthz")[0] == 503
    finally:
        server.close()


def test_healthz_503_when_database_is_down() -> None:
    dead = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none", upgrade=False)
    try:
        healthy, details = Health(dead).check()
    finally:
        dead.dispose()
    assert not healthy
    assert details["database"]["ok"] is False
    assert details["status"] == "unhealthy"
