"""Retry timing: Retry-After parsing (seconds, fractions, HTTP-dates) and jittered backoff."""

from __future__ import annotations

import random
from email.utils import formatdate

import pytest
from hypothesis import given
from hypothesis import strategies as st

from licensewatch.graph.retry import (
    RetryBudget,
    RetryPolicy,
    backoff_delay,
    parse_retry_after,
    policy_from_settings,
    retry_delay,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("2", 2.0), ("2.128", 2.128), (" 0 ", 0.0), ("-3", 0.0), ("", None), ("soon", None)],
)
def test_retry_after_seconds(value: str, expected: float | None) -> None:
    assert parse_retry_after(value) == expected


def test_retry_after_http_date_is_relative_to_now() -> None:
    now = 1_800_000_000.0
    assert parse_retry_after(formatdate(now + 7, usegmt=True), now=now) == pytest.approx(7.0)
    assert parse_retry_after(formatdate(now - 60, usegmt=True), now=now) == 0.0


def test_retry_after_nan_and_infinity_are_ignored() -> None:
    assert parse_retry_after("nan") is None
    assert parse_retry_after("inf") is None


@pytest.mark.parametrize("status", [200, 400, 401, 403, 404, 410, 501])
def test_other_statuses_are_not_retried(status: int) -> None:
    assert retry_delay(status, {"Retry-After": "1"}, 1, random.Random(1)) is None


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_retry_after_header_wins_whatever_its_case(status: int) -> None:
    assert retry_delay(status, {"retry-after": "1.5"}, 1, random.Random(1)) == 1.5
    assert retry_delay(status, {"Retry-After": "4"}, 3, random.Random(1)) == 4.0


@given(attempt=st.integers(1, 200), seed=st.integers(0, 2**32))
def test_backoff_without_retry_after_is_jittered_and_capped(attempt: int, seed: int) -> None:
    delay = retry_delay(429, {}, attempt, random.Random(seed), base=0.5, cap=30.0)
    assert delay is not None
    assert 0.0 <= delay <= min(30.0, 0.5 * 2 ** (attempt - 1))


def test_backoff_grows_then_stops_growing() -> None:
    rng = random.Random(7)
    means = [sum(backoff_delay(a, rng) for _ in range(400)) / 400 for a in (1, 3, 5, 12, 40)]
    assert means[0] < means[1] < means[2] < means[3]
    assert means[3] == pytest.approx(15.0, rel=0.2)  # uniform(0, 30) averages 15
    assert means[4] == pytest.approx(15.0, rel=0.2)


def test_policy_budget_counts_attempts_and_wait() -> None:
    policy = RetryPolicy(max_attempts=3, max_total_wait=10.0)
    assert policy.allows(1, 0.0, 5.0)
    assert policy.allows(2, 5.0, 5.0)
    assert not policy.allows(3, 0.0, 0.1)  # the third attempt was the last
    assert not policy.allows(1, 8.0, 3.0)  # would wait 11 s in total


def test_policy_defaults_match_the_contract() -> None:
    policy = RetryPolicy()
    assert (policy.max_attempts, policy.max_total_wait) == (6, 600.0)
    assert (policy.min_delay, policy.max_retry_after) == (1.0, 300.0)
    assert (policy.sync_budget, policy.pause) == (1800.0, 60.0)
    assert policy.retryable_statuses == frozenset({429, 500, 502, 503, 504})


@pytest.mark.parametrize(("value", "expected"), [("0", 1.0), ("0.2", 1.0), ("150", 150.0)])
def test_retry_after_is_floored_and_a_long_one_is_honoured(value: str, expected: float) -> None:
    """`Retry-After: 0` was five back-to-back retries; 150 s was given up at once."""
    policy = RetryPolicy()
    delay = policy.delay_for_status(429, {"Retry-After": value}, 1, random.Random(1))
    assert delay == expected
    assert policy.allows(1, 0.0, expected)


def test_retry_after_beyond_the_per_request_cap_waits_the_cap() -> None:
    policy = RetryPolicy(max_retry_after=300.0)
    assert policy.delay_for_status(503, {"Retry-After": "3600"}, 1, random.Random(1)) == 300.0


@given(attempt=st.integers(1, 60), seed=st.integers(0, 2**32))
def test_backoff_never_goes_below_the_floor(attempt: int, seed: int) -> None:
    policy = RetryPolicy(min_delay=1.0, base_delay=0.5, max_delay=30.0)
    delay = policy.delay_for_status(502, {}, attempt, random.Random(seed))
    assert delay is not None
    assert 1.0 <= delay <= 30.0
    assert 1.0 <= policy.delay_for_transport_error(attempt, random.Random(seed)) <= 30.0


def test_the_sync_budget_is_shared_and_never_overspent() -> None:
    budget = RetryBudget(10.0)
    assert budget.spend(6.0)
    assert not budget.spend(5.0)  # would be 11 s: nothing reserved
    assert budget.spend(4.0)
    assert budget.spent == 10.0
    assert not budget.spend(0.1)


def test_settings_make_the_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LICENSEWATCH_RETRY_SYNC_BUDGET", "42")
    monkeypatch.setenv("LICENSEWATCH_RETRY_MIN_DELAY", "0.25")
    monkeypatch.setenv("LICENSEWATCH_RETRY_MAX_RETRY_AFTER", "90")
    policy = policy_from_settings()
    assert (policy.sync_budget, policy.min_delay, policy.max_retry_after) == (42.0, 0.25, 90.0)
    assert policy.max_attempts == 6
