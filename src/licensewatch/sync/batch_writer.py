"""Staging batches written by a thread of their own, so building rows never waits on the database.

The page reader (one page ahead, `graph/page_chain.py`) fetches and decodes; the caller builds
rows; this thread writes them. A queue of at most `DEPTH` batches between the builder and the
writer keeps memory flat: when the database is the slower side, the builder waits, and the
reader with it. The database driver releases the GIL while the server (PostgreSQL's COPY) or
SQLite's C code works, which is when the builder runs. The thread starts with the second batch:
a small tenant's one batch is handed back to the caller (no thread to start per sync of a fleet).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

Batch = tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]
DEPTH = 1  # one batch queued, one being written, one being built
_POLL_SECONDS = 0.1


class BatchWriter:
    """Runs `write(users, licences)` for each submitted batch, in order, in one thread.

    The first failure is raised to the submitter (at its next `submit` or at `drain`); batches
    after it are dropped. Leaving the block without `drain` (an error upstream) stops the thread
    after the batch it is writing.
    """

    def __init__(
        self,
        write: Callable[[list[tuple[Any, ...]], list[tuple[Any, ...]]], None],
        *,
        threaded: bool = True,
        hold_below: int = 0,
    ):
        self._write = write
        # A first batch smaller than this is held: it may be a small tenant's only one.
        self._hold_below = hold_below
        # False: batches are written by the caller as they come. SQLite's executemany gives
        # the GIL up and takes it back around every row: beside a busy builder thread, each
        # take-back waits for a switch interval, so a writer thread made SQLite syncs slower.
        self._threaded = threaded
        self._queue: queue.Queue[Batch | None] = queue.Queue(maxsize=DEPTH)
        self._error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="staging-writer", daemon=True)
        self._first: Batch | None = None  # held until a second batch shows a thread is worth it
        self._batches = 0

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._thread.is_alive():
            self._stop.set()
            self._put(None)
            self._thread.join()

    def submit(self, users: list[tuple[Any, ...]], licences: list[tuple[Any, ...]]) -> None:
        """Queue a batch (blocks while DEPTH batches wait); raises the writer's failure."""
        self._raise()
        if not (users or licences):
            return
        self._batches += 1
        if self._batches == 1 and len(users) < self._hold_below:  # perhaps the only batch
            self._first = (users, licences)
            return
        first, self._first = self._first, None
        if not self._threaded:
            if first is not None:
                self._write(*first)
            self._write(users, licences)
            return
        if self._thread.ident is None:  # a full or second batch: now a thread is worth it
            self._thread.start()
            if first is not None:
                self._put(first)
        self._put((users, licences))
        self._raise()

    def drain(self, *, keep_single: bool = False) -> Batch | None:
        """Wait until every batch is written; raises the writer's failure.

        `keep_single`: when only one batch came, it is returned unwritten (the caller writes it
        in its own transaction); otherwise None.
        """
        if self._thread.ident is None:  # inline, or one batch or none: no thread was started
            first, self._first = self._first, None
            if first is not None and keep_single and self._batches == 1:
                return first
            if first is not None:
                self._write(*first)
            return None
        self._put(None)
        self._thread.join()
        self._raise()
        return None

    def _put(self, item: Batch | None) -> None:
        while self._thread.is_alive():
            try:
                self._queue.put(item, timeout=_POLL_SECONDS)
                return
            except queue.Full:
                continue

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        while True:
            batch = self._queue.get()
            if batch is None or self._stop.is_set():
                return
            try:
                self._write(*batch)
            except BaseException as exc:  # handed to the submitter, who decides
                self._error = exc
                return
