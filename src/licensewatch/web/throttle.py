"""Sign-in throttling: too many failures for one username from one address → 429 for a while."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable

MAX_FAILURES = 5
WINDOW_SECONDS = 15 * 60


class LoginThrottle:
    """Counts failures per (username, client address) in a sliding window, in this process."""

    def __init__(
        self,
        max_failures: int = MAX_FAILURES,
        window_seconds: float = WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.window_seconds = window_seconds
        self._clock = clock
        self._failures: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str]) -> deque[float]:
        horizon = self._clock() - self.window_seconds
        stamps = self._failures[key]
        while stamps and stamps[0] <= horizon:
            stamps.popleft()
        return stamps

    def retry_after(self, username: str, address: str) -> int | None:
        """Seconds until the next attempt is allowed, or None when allowed now."""
        key = (username.strip().lower(), address)
        with self._lock:
            stamps = self._recent(key)
            if len(stamps) < self.max_failures:
                return None
            return max(1, int(stamps[0] + self.window_seconds - self._clock()) + 1)

    def record_failure(self, username: str, address: str) -> None:
        key = (username.strip().lower(), address)
        with self._lock:
            self._recent(key).append(self._clock())

    def reset(self, username: str, address: str) -> None:
        with self._lock:
            self._failures.pop((username.strip().lower(), address), None)
