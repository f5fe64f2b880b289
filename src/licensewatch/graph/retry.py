"""When to retry a Graph request and how long to wait: Retry-After, else full-jitter backoff."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

RETRYABLE_STATUSES = frozenset({429, 503, 504})


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
    """Seconds from a Retry-After value: delta-seconds (even fractional) or HTTP-date.

    See learn.microsoft.com/graph/throttling.
    """
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


def backoff_delay(attempt: int, rng: random.Random, base: float = 0.5, cap: float = 30.0) -> float:
    """Full jitter (AWS architecture blog): uniform in [0, min(cap, base * 2**(attempt-1))]."""
    ceiling = min(cap, base * (2.0 ** min(max(attempt, 1) - 1, 62)))
    return rng.uniform(0.0, ceiling)


def retry_delay(
    status: int,
    headers: Mapping[str, str],
    attempt: int,
    rng: random.Random,
    *,
    base: float = 0.5,
    cap: float = 30.0,
    now: float | None = None,
    retryable: frozenset[int] = RETRYABLE_STATUSES,
) -> float | None:
    """Seconds to wait after `attempt` (1-based) got `status`; None = do not retry."""
    if status not in retryable:
        return None
    after = parse_retry_after(_header(headers, "Retry-After"), now)
    if after is not None:
        return after
    return backoff_delay(attempt, rng, base, cap)


@dataclass(frozen=True)
class RetryPolicy:
    """Retry budget per request: attempts and total sleep."""

    max_attempts: int = 6
    max_total_wait: float = 120.0
    base_delay: float = 0.5
    max_delay: float = 30.0
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
            retryable=self.retryable_statuses,
        )

    def delay_for_transport_error(self, attempt: int, rng: random.Random) -> float:
        return backoff_delay(attempt, rng, self.base_delay, self.max_delay)

    def allows(self, attempt: int, waited: float, delay: float) -> bool:
        """True when one more attempt after `attempt` fits both the attempt and the wait budget."""
        return attempt < self.max_attempts and waited + delay <= self.max_total_wait
