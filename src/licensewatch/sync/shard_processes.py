"""Process-parallel sharded user read: shard processes that fetch, build and store their ranges.

One Python process builds rows for one core: past ~3× a sharded read is CPU-bound under the GIL
(docs/performance.md, W2). Here the UPN ranges of `sync/shards.py` are dealt out to N processes
(`sync/shard_child.py`); each reads its ranges as threads, builds rows and stores them itself
(`sync/shard_sinks.py`), so nothing but counts and progress crosses a pipe. Before anything is
stored, the ranges' `@odata.count`s must add up to /users/$count, as in the threaded read. Any
child's error, or a child that dies, stops every other one and fails the sync; the parent
reaps them all (terminate, then kill) before the runner drops the unpublished dataset.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import pickle
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from sqlalchemy import Engine

from licensewatch.graph.client import GraphClient
from licensewatch.sync.shard_child import ChildSpec, main
from licensewatch.sync.shards import ShardMismatch

log = logging.getLogger(__name__)
_JOIN_SECONDS = 5.0
_POLL_SECONDS = 0.25
# The child's module is imported once by the fork server, not by every child it forks.
_PRELOAD = ["licensewatch.sync.shard_child"]


class ShardProcessError(RuntimeError):
    """A shard process died, or failed with an error that could not be handed over as is."""


def process_count(setting: int, shards: int) -> int:
    """How many shard processes: the setting (0 = one per core, at most one per shard)."""
    wanted = (os.cpu_count() or 1) if setting == 0 else setting
    if shards <= 1 or multiprocessing.current_process().daemon:  # a daemon may not have children
        return 1
    return max(1, min(wanted, shards))


def _context() -> Any:  # a ForkServerContext or SpawnContext (BaseContext lacks Process)
    """'forkserver' (children forked from a clean single-threaded server), else 'spawn'."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(_PRELOAD)
        return context
    return multiprocessing.get_context("spawn")


@dataclass
class Totals:
    """What the shard processes did together (`rss_kib`: their peak RSS, summed)."""

    users: int = 0
    pages: int = 0
    sign_in: bool = True
    rss_kib: int = 0
    cpu: float = 0.0  # their CPU seconds, summed
    stats: dict[str, int] = field(default_factory=dict)
    received: dict[int, int] = field(default_factory=dict)
    expected: dict[int, int | None] = field(default_factory=dict)


@dataclass
class _Child:
    process: BaseProcess
    pipe: Connection
    counts: dict[int, int | None] | None = None
    done: dict[str, Any] | None = None


Progress = Callable[[int, int, str | None], None]  # users stored, pages read, a request id


class ShardProcesses:
    """N shard processes for one full sync: start early, `begin` after the deltaLink, `verify`
    the partition, `go`, then `collect`. Leaving the block stops and reaps every one of them."""

    def __init__(
        self,
        client: GraphClient,
        engine: Engine,
        *,
        run_id: int,
        tenant_id: int,
        filters: list[str],
        processes: int,
        with_sign_in: bool,
        sizes: dict[str, Any] | None = None,
    ) -> None:
        """`sizes`: ChildSpec's page and batch sizes (top, sign_in_top, flush_users…)."""
        self.engine_name = engine.dialect.name
        self.scratch: list[Path] = []
        self._dir: str | None = None
        if self.engine_name == "sqlite":
            database = engine.url.database
            near = Path(database).parent if database and database != ":memory:" else None
            # Owner-only (mkdtemp), beside the database (same disk): user data, gone at exit.
            self._dir = tempfile.mkdtemp(prefix="lw-shards-", dir=near)
        context = _context()
        self._begin, self._go, self._stop = context.Event(), context.Event(), context.Event()
        options = client.replica_options()
        token = client.token()
        self.children: list[_Child] = []
        self._starter: threading.Thread | None = None
        self._start_error: BaseException | None = None
        for number in range(processes):
            shards = [(i, text) for i, text in enumerate(filters) if i % processes == number]
            if self._dir is not None:
                self.scratch.append(Path(self._dir) / f"shard-{number}.sqlite")
                target = str(self.scratch[-1])
            else:
                target = engine.url.render_as_string(hide_password=False)
            spec = ChildSpec(
                number, client.connection, options, token, shards, with_sign_in,
                run_id, tenant_id, self.engine_name, target, **(sizes or {}),
            )  # fmt: skip
            receive, send = context.Pipe(duplex=False)
            process = context.Process(
                target=main,
                args=(spec, send, self._begin, self._go, self._stop),
                name=f"licensewatch-shard-{number}",
                daemon=True,  # and each child watches this process: no orphans either way
            )
            self.children.append(_Child(process, receive))
            self._send_ends = [*getattr(self, "_send_ends", []), send]

    def __enter__(self) -> Self:
        # Started from a thread: the fork server's imports (seconds on a loaded machine) overlap
        # the inventory read and the deltaLink; `verify` waits for it.
        self._starter = threading.Thread(target=self._start, name="shard-starter", daemon=True)
        self._starter.start()
        return self

    def _start(self) -> None:
        try:
            for child in self.children:
                if self._stop.is_set():
                    break
                child.process.start()
        except BaseException as exc:  # raised by `verify`
            self._start_error = exc
        finally:
            for send in self._send_ends:  # ours closed: a dead child's pipe reads EOF
                send.close()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def begin(self) -> None:
        """Let the processes read (after the parent took its deltaLink)."""
        self._begin.set()

    def verify(self, total: int) -> BaseException | None:
        """Every shard's first-page count; what makes the partition unusable (None: sound)."""
        if self._starter is not None:
            self._starter.join()
        if self._start_error is not None:
            raise self._start_error
        while any(child.counts is None for child in self.children):
            problem = self._pump(None, counting=True)
            if problem is not None:
                return problem
        counts = [c for child in self.children for c in (child.counts or {}).values()]
        if any(count is None for count in counts):
            return ShardMismatch("a shard's first page has no @odata.count")
        summed = sum(count for count in counts if count is not None)
        if summed != total:
            return ShardMismatch(f"shards hold {summed} users but /users/$count says {total}")
        return None

    def collect(self, progress: Progress) -> Totals:
        """Let every process store its rows; their totals (raises the first failure)."""
        self._go.set()
        while any(child.done is None for child in self.children):
            problem = self._pump(progress, counting=False)
            if problem is not None:
                raise problem
        totals = Totals()
        for child in self.children:
            done = child.done or {}
            totals.users += done["users"]
            totals.sign_in = totals.sign_in and done["sign_in"]
            totals.rss_kib += done["rss_kib"]
            totals.cpu += done["cpu"]
            totals.received.update(done["received"])
            totals.expected.update(done["expected"])
            for name, value in done["stats"].items():
                totals.stats[name] = totals.stats.get(name, 0) + value
        return totals

    def _pump(self, progress: Progress | None, *, counting: bool) -> BaseException | None:
        """Handle what the processes said until now; a failure, or None."""
        waiting = {child.pipe: child for child in self.children if child.done is None}
        sentinels = {child.process.sentinel: child for child in waiting.values()}
        ready = wait([*waiting, *sentinels], _POLL_SECONDS)
        for item in ready:
            child = sentinels[item] if isinstance(item, int) else waiting[item]  # type: ignore[index]
            while child.done is None and child.pipe.poll():
                try:
                    message = child.pipe.recv()
                except EOFError:  # its end closed without "done": the process is gone
                    return self._died(child)
                problem = self._handle(child, message, progress)
                if problem is not None:
                    return problem
                if counting and child.counts is not None and child.done is None:
                    break  # the rest waits for `go`
            if child.done is None and not child.process.is_alive() and not child.pipe.poll():
                return self._died(child)
        return None

    def _died(self, child: _Child) -> ShardProcessError:
        child.process.join(_JOIN_SECONDS)
        code = child.process.exitcode
        return ShardProcessError(f"{child.process.name} exited ({code}) before storing its rows")

    def _handle(
        self, child: _Child, message: tuple[Any, ...], progress: Progress | None
    ) -> BaseException | None:
        kind = message[0]
        if kind == "counts":
            child.counts = message[1]
        elif kind == "progress" and progress is not None:
            progress(message[1], message[2], message[3])
        elif kind == "done":
            child.done = message[1]
        elif kind == "error":
            payload, text = message[1], message[2]
            if payload is not None:
                error: BaseException = pickle.loads(payload)  # noqa: S301 - our own child's
                return error
            return ShardProcessError(f"{child.process.name} failed: {text}")
        return None

    def close(self) -> None:
        """Stop every process, reap it (terminate, then kill) and remove the scratch files."""
        self._stop.set()
        self._begin.set()  # a process waiting to begin sees `stop` at once
        if self._starter is not None:
            self._starter.join()
        deadline = time.monotonic() + _JOIN_SECONDS
        for child in self.children:
            if child.process.pid is not None:
                child.process.join(max(0.0, deadline - time.monotonic()))
        for child in self.children:
            if child.process.pid is not None and child.process.is_alive():
                log.warning("%s did not stop; terminating it", child.process.name)
                child.process.terminate()
                child.process.join(_JOIN_SECONDS)
                if child.process.is_alive():
                    child.process.kill()
                    child.process.join()
            child.pipe.close()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
