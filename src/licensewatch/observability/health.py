"""The `/healthz` verdict of a process (the fleet status per tenant is in `fleet.py`)."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Engine, text


class Health:
    """The process's liveness: the scheduler loop ticks it; `/healthz` also asks the database."""

    def __init__(self, engine: Engine, max_silence: float = 60.0) -> None:
        self.engine = engine
        self.max_silence = max_silence
        self._last_tick = time.monotonic()
        self.stopping = False

    def tick(self) -> None:
        self._last_tick = time.monotonic()

    def check(self) -> tuple[bool, dict[str, Any]]:
        """(healthy, details): healthy when the database answers and the loop is alive."""
        silence = time.monotonic() - self._last_tick
        loop_ok = silence <= self.max_silence and not self.stopping
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            database: dict[str, Any] = {"ok": True}
        except Exception as exc:  # any driver error means: not healthy
            database = {"ok": False, "error": type(exc).__name__}
        healthy = loop_ok and bool(database["ok"])
        return healthy, {
            "status": "ok" if healthy else "unhealthy",
            "database": database,
            "loop": {"ok": loop_ok, "seconds_since_tick": round(silence, 3)},
            "stopping": self.stopping,
        }
