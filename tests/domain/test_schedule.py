"""Scheduling rules: jitter bounds, capped backoff, full vs delta choice, duration parsing."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from licensewatch.domain.schedule import (
    SchedulePolicy,
    SyncKind,
    next_run_after_failure,
    next_run_after_success,
    parse_duration,
    sync_kind,
)

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@given(seed=st.integers(), minutes=st.integers(min_value=1, max_value=10_000))
def test_success_reschedule_stays_within_jitter(seed: int, minutes: int) -> None:
    policy = SchedulePolicy()
    interval = timedelta(minutes=minutes)
    nxt = next_run_after_success(NOW, policy, interval, random.Random(seed))
    spread = interval * policy.jitter_fraction
    assert NOW + interval - spread <= nxt <= NOW + interval + spread


def test_jitter_spreads_tenants() -> None:
    rng = random.Random(1)
    runs = {next_run_after_success(NOW, SchedulePolicy(), None, rng) for _ in range(50)}
    assert len(runs) == 50


@given(seed=st.integers(), failures=st.integers(min_value=1, max_value=1000))
def test_backoff_is_capped_and_positive(seed: int, failures: int) -> None:
    policy = SchedulePolicy()
    nxt = next_run_after_failure(NOW, failures, policy, random.Random(seed))
    assert NOW + timedelta(seconds=1) <= nxt <= NOW + policy.backoff_cap


def test_backoff_grows_with_failures() -> None:
    policy = SchedulePolicy(backoff_base=timedelta(seconds=10), backoff_cap=timedelta(days=1))
    delays = [
        (next_run_after_failure(NOW, n, policy, random.Random(0)) - NOW).total_seconds()
        for n in (1, 4, 8)
    ]
    assert delays[0] < delays[1] < delays[2]


def test_sync_kind() -> None:
    policy = SchedulePolicy()
    full, delta = SyncKind.FULL, SyncKind.DELTA
    assert sync_kind(NOW, has_delta_link=False, last_full_sync_at=NOW, policy=policy) is full
    assert sync_kind(NOW, has_delta_link=True, last_full_sync_at=None, policy=policy) is full
    recent = NOW - timedelta(hours=2)
    assert sync_kind(NOW, has_delta_link=True, last_full_sync_at=recent, policy=policy) is delta
    stale = NOW - timedelta(days=2)
    assert sync_kind(NOW, has_delta_link=True, last_full_sync_at=stale, policy=policy) is full


@pytest.mark.parametrize(
    ("text", "seconds"), [("90s", 90), ("15m", 900), ("1h", 3600), ("7d", 604800), ("30", 30)]
)
def test_parse_duration(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize(
    "text", ["", "abc", "-1h", "0", "1y", "99999999999999999d", "1e400s", "inf", "nan", "3651d"]
)
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)
