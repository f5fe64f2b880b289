"""The sync metric set through prometheus_client: names, label order, buckets, no `_created`."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

from licensewatch.observability.sync_metrics import SyncMetrics


@dataclass(frozen=True)
class Figures:
    kind: object = "full"
    duration_ms: int = 1500
    users_read: int = 20
    pages_read: int = 2
    requests: int = 5
    retries: int = 1
    throttled: int = 1
    error_kind: str | None = None


NAMES = {
    "licensewatch_sync_duration_seconds",
    "licensewatch_sync_runs_total",
    "licensewatch_sync_users_read_total",
    "licensewatch_sync_pages_read_total",
    "licensewatch_graph_requests_total",
    "licensewatch_graph_retries_total",
    "licensewatch_graph_throttled_total",
    "licensewatch_sync_failures_total",
    "licensewatch_sync_last_success_timestamp_seconds",
    "licensewatch_tenants_failing",
    "licensewatch_syncs_in_flight",
    "licensewatch_daemon_loop_timestamp_seconds",
}


def test_the_metric_names_and_samples_are_kept() -> None:
    metrics = SyncMetrics()
    metrics.observe("contoso", "completed", Figures())
    metrics.observe('we"ird\\name', "failed", Figures(error_kind="AuthError: bad secret"))
    metrics.observe("fabrikam", "failed", None)
    text = metrics.render()
    assert "# TYPE licensewatch_sync_runs_total counter" in text
    assert 'licensewatch_sync_runs_total{outcome="completed",tenant="contoso"} 1.0' in text
    assert (
        'licensewatch_sync_failures_total{kind="AuthError",tenant="we\\"ird\\\\name"} 1.0' in text
    )
    assert 'licensewatch_sync_failures_total{kind="setup",tenant="fabrikam"} 1.0' in text
    # prometheus_client writes label names sorted, `le` among them.
    bucket = 'licensewatch_sync_duration_seconds_bucket{kind="full",le="%s",outcome="completed"}'
    assert bucket % "1.0" + " 0.0" in text
    assert bucket % "2.5" + " 1.0" in text
    assert bucket % "+Inf" + " 1.0" in text
    assert "_created" not in text
    samples = {s.name for family in text_string_to_metric_families(text) for s in family.samples}
    families = {f.name for f in text_string_to_metric_families(text)}
    assert {n.removesuffix("_total") for n in NAMES} == families
    assert 'licensewatch_sync_users_read_total{tenant="contoso"} 20.0' in text
    assert "licensewatch_sync_users_read_total" in samples
    assert "licensewatch_syncs_in_flight 0.0" in text


def test_in_flight_counts_concurrent_syncs() -> None:
    metrics = SyncMetrics()
    inside, release = threading.Barrier(5), threading.Event()

    def sync() -> None:
        with metrics.running():
            inside.wait()
            release.wait()

    threads = [threading.Thread(target=sync) for _ in range(4)]
    for thread in threads:
        thread.start()
    inside.wait()
    assert "licensewatch_syncs_in_flight 4.0" in metrics.render()
    release.set()
    for thread in threads:
        thread.join()
    assert "licensewatch_syncs_in_flight 0.0" in metrics.render()
