"""The Prometheus text rendering: types, labels, escaping and histogram buckets."""

from __future__ import annotations

import threading

import pytest

from licensewatch.observability.metrics import Registry


def test_render_counter_gauge_histogram() -> None:
    registry = Registry()
    syncs = registry.counter("licensewatch_syncs_total", "Sync runs by outcome.")
    last = registry.gauge("licensewatch_last_success_timestamp_seconds", "Last success.")
    duration = registry.histogram(
        "licensewatch_sync_duration_seconds", "Sync time.", buckets=(1, 10)
    )
    syncs.inc(tenant="contoso", status="completed")
    syncs.inc(2, tenant="contoso", status="completed")
    last.set(1700000000.5, tenant='we"ird\\name')
    duration.observe(0.5, tenant="contoso")
    duration.observe(5, tenant="contoso")
    text = registry.render()
    assert "# TYPE licensewatch_syncs_total counter" in text
    assert 'licensewatch_syncs_total{status="completed",tenant="contoso"} 3' in text
    assert (
        'licensewatch_last_success_timestamp_seconds{tenant="we\\"ird\\\\name"} 1700000000.5'
        in text
    )
    assert 'licensewatch_sync_duration_seconds_bucket{tenant="contoso",le="1"} 1' in text
    assert 'licensewatch_sync_duration_seconds_bucket{tenant="contoso",le="10"} 2' in text
    assert 'licensewatch_sync_duration_seconds_bucket{tenant="contoso",le="+Inf"} 2' in text
    assert 'licensewatch_sync_duration_seconds_count{tenant="contoso"} 2' in text
    assert text.endswith("\n")


def test_duplicate_names_are_refused() -> None:
    registry = Registry()
    registry.counter("x_total", "x")
    with pytest.raises(ValueError, match="twice"):
        registry.gauge("x_total", "x")


def test_counter_is_thread_safe() -> None:
    counter = Registry().counter("c_total", "c")

    def bump() -> None:
        for _ in range(10_000):
            counter.inc(tenant="t")

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert counter.values[(("tenant", "t"),)] == 40_000
