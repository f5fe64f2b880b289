"""One shard process of a process-parallel full sync: read its UPN ranges, build rows, store them.

Started by `sync/shard_processes.py` ('forkserver' or 'spawn', never a fork of a threaded
parent). Everything it gets is picklable: the connection settings, the parent's access token
(used until it nears expiry, then this process asks Entra ID itself; never logged), and where
to put rows. It talks to the parent through one pipe: first its shards' `@odata.count`s (the
parent checks the partition before anything is stored), then progress, then its totals or
its error. It exits as soon as the parent does (a watchdog on the parent's sentinel).
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import resource
import threading
import time
from dataclasses import dataclass, field
from multiprocessing import parent_process
from multiprocessing.connection import Connection, wait
from multiprocessing.synchronize import Event
from typing import Any

from licensewatch.graph.auth import AccessToken, TokenProvider
from licensewatch.graph.client import GraphClient
from licensewatch.graph.connection import GraphConnection
from licensewatch.graph.errors import GraphAuthorizationError
from licensewatch.graph.paging import Page
from licensewatch.sync import row_builder, user_stream
from licensewatch.sync.shard_sinks import CopySink, ScratchSink, Sink
from licensewatch.sync.shards import ShardReader

log = logging.getLogger(__name__)
_WAIT_SECONDS = 0.1


@dataclass(frozen=True)
class ChildSpec:
    """What one shard process needs; `target` is a scratch file path or a PostgreSQL URL."""

    number: int
    connection: GraphConnection
    client_options: dict[str, Any]
    token: AccessToken | None
    shards: list[tuple[int, str]]  # (shard number, its $filter)
    with_sign_in: bool
    run_id: int
    tenant_id: int
    engine: str  # "sqlite" or "postgresql"
    target: str = field(repr=False)  # a PostgreSQL URL may hold a password
    top: int = 999
    sign_in_top: int = 500
    flush_users: int = 5_000
    flush_seconds: float = 1.0


class _SeededTokens(TokenProvider):
    """The parent's token while it is fresh; then (or after a 401) this process's own."""

    def __init__(self, connection: GraphConnection, seed: AccessToken | None) -> None:
        super().__init__(connection)
        self._seed = seed

    def token(self) -> AccessToken:
        seed = self._seed
        if seed is not None and seed.expires_on - time.time() > 300:
            return seed
        return super().token()

    def invalidate(self) -> None:
        self._seed = None
        super().invalidate()


def main(spec: ChildSpec, pipe: Connection, begin: Event, go: Event, stop: Event) -> None:
    """The process's target: never raises (its failure goes to the parent through `pipe`)."""
    _watch_parent()
    tokens = _SeededTokens(spec.connection, spec.token)
    sink: Sink | None = None
    try:
        with GraphClient(spec.connection, token_provider=tokens, **spec.client_options) as client:
            while not begin.wait(_WAIT_SECONDS):  # the parent takes its deltaLink first
                if stop.is_set():
                    return
            if spec.engine == "sqlite":
                sink = ScratchSink(spec.target)
            else:
                sink = CopySink(spec.target, spec.run_id)
            totals = _Reading(spec, client, sink, pipe, go, stop).run()
            totals["stats"] = client.stats.as_dict()
        usage = resource.getrusage(resource.RUSAGE_SELF)
        totals["rss_kib"], totals["cpu"] = usage.ru_maxrss, usage.ru_utime + usage.ru_stime
        pipe.send(("done", totals))
    except BaseException as exc:  # reported, never raised: the parent decides
        _send_error(pipe, exc)
    finally:
        tokens.close()
        if sink is not None:
            sink.close()
        pipe.close()


class _Reading:
    """This process's shards, read as threads (`ShardReader`), built and stored in batches."""

    def __init__(
        self,
        spec: ChildSpec,
        client: GraphClient,
        sink: Sink,
        pipe: Connection,
        go: Event,
        stop: Event,
    ) -> None:
        self.spec, self.client, self.sink, self.pipe = spec, client, sink, pipe
        self.go, self.stop = go, stop
        self.seen: set[Any] = set()  # this process's users (other shards' are the parent's)
        self.verified = False
        self.received = {shard: 0 for shard, _ in spec.shards}
        self.expected: dict[int, int | None] = {}
        self.users: list[tuple[Any, ...]] = []
        self.licences: list[tuple[Any, ...]] = []
        self.flushed_at = time.monotonic()
        self.pending = [0, 0]  # users and pages not yet reported

    def run(self) -> dict[str, Any]:
        sign_in = self.spec.with_sign_in
        if sign_in:
            try:
                return self._read(with_sign_in=True)
            except GraphAuthorizationError:
                # As the single-process sync: users taken keep signInActivity; the rest of the
                # shards are read again without it, skipping those (`seen`).
                log.warning(
                    "shard process %s: signInActivity refused; without it", self.spec.number
                )
                sign_in = False
        return self._read(with_sign_in=False)

    def _read(self, *, with_sign_in: bool) -> dict[str, Any]:
        spec = self.spec
        top = spec.sign_in_top if with_sign_in else spec.top
        params: dict[str, str | int] = {
            "$select": user_stream.select(with_sign_in=with_sign_in),
            "$top": str(top),
        }
        build = row_builder.builder_for(with_sign_in=with_sign_in, encoding=_encoding(spec))
        filters = [text for _, text in spec.shards]
        reader = ShardReader(self.client, params, filters)
        try:
            reader.start()
            firsts: list[Page | None] = [None] * len(filters)
            for _ in filters:
                event = reader.events.get()
                if event.error is not None:
                    raise event.error
                firsts[event.shard] = event.page
            if not self.verified and not self._verify(firsts):
                return {"stopped": True}
            for local, page in enumerate(firsts):
                if page is not None:
                    self._take(build, local, page)
            reader.go.set()
            running = len(filters)
            while running:
                event = reader.events.get()
                if event.error is not None:
                    raise event.error
                if event.page is None:
                    running -= 1
                    continue
                reader.permits.release()  # that shard may fetch its next page
                self._take(build, event.shard, event.page)
                if self.stop.is_set():
                    return {"stopped": True}
            self._flush()
        finally:
            reader.close()
        return {
            "sign_in": with_sign_in,
            "users": len(self.seen),
            "received": self.received,
            "expected": self.expected,
        }

    def _verify(self, firsts: list[Page | None]) -> bool:
        """Send this process's shard counts; wait for the parent's verdict (True: go on)."""
        shards = [shard for shard, _ in self.spec.shards]
        self.expected = {
            shard: p.count if p else None for shard, p in zip(shards, firsts, strict=True)
        }
        self.pipe.send(("counts", self.expected))
        self.verified = True
        while not self.go.wait(_WAIT_SECONDS):
            if self.stop.is_set():
                return False
        return not self.stop.is_set()

    def _take(self, build: row_builder.PageBuilder, local: int, page: Page) -> None:
        spec = self.spec
        self.received[spec.shards[local][0]] += len(page.items)
        build(page.items, spec.run_id, spec.tenant_id, self.seen, self.users, self.licences)
        self.pending[1] += 1
        if page.request_id:
            self.last_request = page.request_id
        full = len(self.users) >= spec.flush_users
        if full or time.monotonic() - self.flushed_at >= spec.flush_seconds:
            self._flush()

    def _flush(self) -> None:
        users, licences = self.users, self.licences
        self.users, self.licences = [], []
        self.flushed_at = time.monotonic()
        if users or licences:
            self.pending[0] += self.sink.append(users, licences)
        request_id = getattr(self, "last_request", None)
        self.pipe.send(("progress", self.pending[0], self.pending[1], request_id))
        self.pending = [0, 0]


def _encoding(spec: ChildSpec) -> row_builder.Encoding:
    return "sqlite" if spec.engine == "sqlite" else "python"


def _send_error(pipe: Connection, exc: BaseException) -> None:
    """The error itself when it pickles (the parent raises the same type), else its text."""
    try:
        payload: bytes | None = pickle.dumps(exc)
        pickle.loads(pickle.dumps(exc))  # noqa: S301 - our own bytes, checked before the parent trusts them
    except Exception:
        payload = None
    # OSError, ValueError: the parent is gone or closed its end: nobody to tell.
    with contextlib.suppress(OSError, ValueError):
        pipe.send(("error", payload, f"{type(exc).__name__}: {exc}"))


def _watch_parent() -> None:
    """Exit at once when the parent process dies (no orphan keeps reading Graph)."""
    parent = parent_process()
    if parent is None:
        return
    sentinel = parent.sentinel

    def watch() -> None:
        wait([sentinel])
        os._exit(3)

    threading.Thread(target=watch, name="shard-parent-watch", daemon=True).start()
