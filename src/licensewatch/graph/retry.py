"""When to retry a Graph request and how long to wait: one retry policy, as data.

Retry-After is honoured (up to `max_retry_after`), with a floor of `min_delay` when it is 0 or
absent; otherwise full-jitter exponential backoff. A request gives up after `max_attempts` or
`max_request_wait`; the client then *pauses* the page chain and asks again, as long as the
whole-sync `sync_budget` of waiting allows (docs/decisions/0003-retry-policy.md).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

from licensewatch.settings import Settings, load_settings

# 429 throttled; 500/502 transient server faults; 503/504 unavailable (Graph's errors page says
# a 503 may be repeated after a delay, and 504 "may occur together with 503").
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is not None:
        return value
    lowered = name.lower()
    for key, candidate in headers.items():  # plain dicts are case-sensitive; httpx.Headers is not
        if key.lower() == lowered:
            return candidate
    return None


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a Retry-After value: delta-seconds (even fractional) or an HTTP-date."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # RFC 9110 dates are GMT
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if seconds != seconds or seconds in (float("inf"), float("-inf")):  # NaN/inf from float("nan")
        return None
    return max(0.0, seconds)


def backoff_delay(
    attempt: int, rng: random.Random, base: float = 0.5, cap: float = 30.0, floor: float = 0.0
) -> float:
    """Full jitter (AWS architecture blog) above a floor: uniform in [floor, max(floor, ceiling)]
    where ceiling = min(cap, base * 2**(attempt-1))."""
    ceiling = min(cap, base * (2.0 ** min(max(attempt, 1) - 1, 62)))
    return rng.uniform(floor, max(floor, ceiling))


def retry_delay(
    status: int,
    headers: Mapping[str, str],
    attempt: int,
    rng: random.Random,
    *,
    base: float = 0.5,
    cap: float = 30.0,
    floor: float = 0.0,
    max_retry_after: float = float("inf"),
    now: float | None = None,
    retryable: frozenset[int] = RETRYABLE_STATUSES,
) -> float | None:
    """Seconds to wait after `attempt` (1-based) got `status`; None = do not retry.

    Retry-After wins, raised to `floor` (a `0` must not turn into back-to-back retries) and
    lowered to `max_retry_after`; without it, jittered backoff above `floor`.
    """
    if status not in retryable:
        return None
    after = parse_retry_after(_header(headers, "Retry-After"), now)
    if after is not None:
        return min(max(after, floor), max(max_retry_after, floor))
    return backoff_delay(attempt, rng, base, cap, floor)


@dataclass(frozen=True)
class RetryPolicy:
    """How one client retries: per request, then per sync (all times in seconds)."""

    # Per request: attempts and waiting before the request gives up (and the chain pauses).
    max_attempts: int = 6
    max_total_wait: float = 600.0
    # Backoff without Retry-After: full jitter over base * 2**(attempt-1), at most max_delay.
    base_delay: float = 0.5
    max_delay: float = 30.0
    # Floor of every wait: a Retry-After of 0 (or none at all) still waits about this long.
    min_delay: float = 1.0
    # A single Retry-After is honoured up to this; a longer one waits this, then asks again.
    max_retry_after: float = 300.0
    # Whole sync (one client): total seconds of waiting, retries and pauses together.
    sync_budget: float = 1800.0
    # When a request gave up but the sync budget allows: wait this long, then resume the chain.
    pause: float = 60.0
    retryable_statuses: frozenset[int] = RETRYABLE_STATUSES
    # None = real time, interruptible when a prefetching iterator is abandoned; tests inject a fake.
    sleep: Callable[[float], None] | None = field(default=None, repr=False, compare=False)

    def delay_for_status(
        self, status: int, headers: Mapping[str, str], attempt: int, rng: random.Random
    ) -> float | None:
        return retry_delay(
            status,
            headers,
            attempt,
            rng,
            base=self.base_delay,
            cap=self.max_delay,
            floor=self.min_delay,
            max_retry_after=self.max_retry_after,
            retryable=self.retryable_statuses,
        )

    def delay_for_transport_error(self, attempt: int, rng: random.Random) -> float:
        return backoff_delay(attempt, rng, self.base_delay, self.max_delay, self.min_delay)

    def allows(self, attempt: int, waited: float, delay: float) -> bool:
        """True when one more attempt after `attempt` fits the per-request attempts and wait."""
        return attempt < self.max_attempts and waited + delay <= self.max_total_wait


class RetryBudget:
    """The whole-sync budget of waiting, shared by every thread of one client (thread-safe)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._spent = 0.0
        self._lock = threading.Lock()

    @property
    def spent(self) -> float:
        with self._lock:
            return self._spent

    def spend(self, delay: float) -> bool:
        """Reserve `delay` seconds of waiting; False (nothing reserved) when it does not fit."""
        with self._lock:
            if self._spent + delay > self.seconds:
                return False
            self._spent += delay
            return True


def policy_from_settings(settings: Settings | None = None) -> RetryPolicy:
    """The policy of `LICENSEWATCH_RETRY_*` (docs/configuration.md), defaults where unset."""
    found = settings or load_settings()
    return RetryPolicy(
        max_attempts=found.retry_max_attempts,
        max_total_wait=found.retry_max_request_wait,
        base_delay=found.retry_base_delay,
        max_delay=found.retry_max_delay,
        min_delay=found.retry_min_delay,
        max_retry_after=found.retry_max_retry_after,
        sync_budget=found.retry_sync_budget,
        pause=found.retry_pause,
    )
