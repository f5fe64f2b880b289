"""When each tenant syncs next, and whether that sync reads everything or only the changes."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class SyncKind(StrEnum):
    FULL = "full"
    DELTA = "delta"


@dataclass(frozen=True)
class SchedulePolicy:
    interval: timedelta = timedelta(hours=1)
    # Spread tenants so a thousand of them do not all start on the hour.
    jitter_fraction: float = 0.1
    # A full read catches what delta does not track (licenseAssignmentStates, for one).
    full_reconcile_every: timedelta = timedelta(days=1)
    backoff_base: timedelta = timedelta(minutes=1)
    backoff_cap: timedelta = timedelta(hours=1)


def next_run_after_success(
    finished_at: datetime, policy: SchedulePolicy, interval: timedelta | None, rng: random.Random
) -> datetime:
    """The tenant's interval after a success, moved by up to ±jitter_fraction of it."""
    period = interval or policy.interval
    spread = period.total_seconds() * policy.jitter_fraction
    return finished_at + period + timedelta(seconds=rng.uniform(-spread, spread))


def next_run_after_failure(
    finished_at: datetime, consecutive_failures: int, policy: SchedulePolicy, rng: random.Random
) -> datetime:
    """Capped exponential backoff with jitter, so failing tenants do not retry in lockstep."""
    exponent = min(max(consecutive_failures - 1, 0), 30)
    cap = policy.backoff_cap.total_seconds()
    ceiling = min(policy.backoff_base.total_seconds() * 2**exponent, cap)
    delay = max(ceiling * rng.uniform(0.5, 1.0), 1.0)
    return finished_at + timedelta(seconds=delay)


def sync_kind(
    now: datetime,
    *,
    has_delta_link: bool,
    last_full_sync_at: datetime | None,
    policy: SchedulePolicy,
) -> SyncKind:
    """Delta when a deltaLink is stored and the last full read is recent enough; full otherwise."""
    if not has_delta_link or last_full_sync_at is None:
        return SyncKind.FULL
    if now - last_full_sync_at >= policy.full_reconcile_every:
        return SyncKind.FULL
    return SyncKind.DELTA


# Beyond this a duration is a typo (and past ~2.7 million years timedelta itself overflows).
MAX_DURATION = timedelta(days=3650)
# A tenant synced less than once a year is not watched; the column is a 32-bit integer.
MAX_SYNC_INTERVAL = timedelta(days=365)


def parse_duration(text: str, maximum: timedelta = MAX_DURATION) -> timedelta:
    """'90s', '15m', '1h', '7d' or a bare number of seconds → timedelta (ValueError with a hint)."""
    value = text.strip().lower()
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    try:
        if value and value[-1] in units:
            seconds = float(value[:-1]) * units[value[-1]]
        else:
            seconds = float(value)
    except ValueError:
        raise ValueError(f"{text!r} is not a duration: use e.g. 90s, 15m, 1h or 7d") from None
    if not math.isfinite(seconds):
        raise ValueError(f"{text!r} is not a duration: use e.g. 90s, 15m, 1h or 7d")
    if seconds <= 0:
        raise ValueError(f"{text!r} must be a positive duration")
    if seconds > maximum.total_seconds():
        raise ValueError(f"{text!r} is too long a duration: at most {maximum.days} days")
    return timedelta(seconds=seconds)
