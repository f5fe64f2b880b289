"""Per-process memos of read results, per database and entry, kept while their version holds.

A version is read from the database by the request itself (the rows a publish or rebuild
rewrites in the same transaction as the data), so another process's change is seen on the
next request: the memo only skips re-reading and decoding rows that version names exactly.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from sqlalchemy import Engine

V = TypeVar("V")


class ProcessMemo(Generic[V]):
    """entry → (version, value) per engine; one version per entry (the newest read wins)."""

    def __init__(self, max_entries: int = 256) -> None:
        # Weak: an engine disposed of and collected (tests, benchmarks) takes its entries along.
        self._kept: weakref.WeakKeyDictionary[Engine, dict[Hashable, tuple[Hashable, V]]] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()
        self._max = max_entries

    def get(self, engine: Engine, entry: Hashable, version: Hashable, load: Callable[[], V]) -> V:
        """The value kept for this entry at this version, else `load()` (kept for next time)."""
        with self._lock:
            kept = self._kept.get(engine, {}).get(entry)
        if kept is not None and kept[0] == version:
            return kept[1]
        value = load()
        with self._lock:
            entries = self._kept.setdefault(engine, {})
            if entry not in entries and len(entries) >= self._max:
                entries.pop(next(iter(entries)))  # the oldest entry: bounded memory
            entries[entry] = (version, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()
