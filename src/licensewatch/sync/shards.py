"""Shard-parallel /users reads: disjoint userPrincipalName ranges fetched concurrently."""

from __future__ import annotations

import logging
import queue
import re
import threading
from collections.abc import Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from itertools import accumulate, pairwise
from string import ascii_lowercase
from typing import Literal

from licensewatch.graph.client import GraphClient
from licensewatch.graph.errors import GraphError
from licensewatch.graph.paging import Page
from licensewatch.sync.seen import SeenUsers

log = logging.getLogger(__name__)

MAX_SHARDS = 64
OnMismatch = Literal["fallback", "raise", "warn"]
# Share of UPNs by first letter: given-name initials of Western directories blended half-and-half
# with a flat spread (international names, service accounts). It only balances the shards:
# correctness never depends on it, since the ranges cover every string whatever the weights.
_INITIAL_WEIGHTS = (
    6.2, 3.9, 5.4, 5.2, 4.2, 2.9, 3.2, 3.2, 2.7, 6.4, 4.7, 4.7, 6.2,
    3.4, 2.7, 3.2, 2.1, 4.4, 5.4, 4.2, 2.2, 2.7, 2.9, 2.1, 2.4, 2.4,
)  # fmt: skip
HEADERS = {"ConsistencyLevel": "eventual"}  # ge/le on userPrincipalName is an advanced query
_SAFE_PREFIX = re.compile(r"[a-z0-9]+")
_BOUNDARY_CHARS = 8
_JOIN_SECONDS = 5.0
_POLL_SECONDS = 0.1


class ShardMismatch(GraphError):
    """The shards' counts disagree with /users/$count: the partition would lose or repeat users."""


def _boundaries(n: int) -> list[str]:
    """n-1 increasing lowercase boundaries (no '@', so no UPN ever equals one)."""
    cumulative = list(accumulate(_INITIAL_WEIGHTS))
    total, found = cumulative[-1], list[str]()
    for k in range(1, n):
        target = total * k / n
        letter = next(i for i, c in enumerate(cumulative) if c >= target)
        below = cumulative[letter - 1] if letter else 0.0
        second = round((target - below) / _INITIAL_WEIGHTS[letter] * 26)
        if second >= 26:
            boundary = ascii_lowercase[letter + 1] if letter < 25 else "zz"
        else:
            boundary = ascii_lowercase[letter] + (ascii_lowercase[second] if second else "")
        if not found or boundary > found[-1]:
            found.append(boundary)
    return found


def boundaries_from_sample(starts: Sequence[str | None]) -> list[str]:
    """Range boundaries from the first UPN of each equal share of a tenant's stored users.

    Each boundary is the leading run of [a-z0-9] of a share's first UPN: a prefix sorts before
    the UPN it was cut from, so that user opens the next range. Characters whose order Graph
    may compare differently (punctuation, non-ASCII) are left out; where nothing is left, or two
    shares start alike, the boundary is dropped (fewer, larger ranges: still a partition).
    """
    found: list[str] = []
    for upn in starts:
        if not upn:
            continue
        prefix = _SAFE_PREFIX.match(upn.lower())
        boundary = prefix.group(0)[:_BOUNDARY_CHARS] if prefix else ""
        if boundary and (not found or boundary > found[-1]):
            found.append(boundary)
    return found


def shard_filters(n: int, boundaries: Sequence[str] | None = None) -> list[str]:
    """$filter texts of disjoint UPN ranges whose union is every possible UPN.

    n ranges from the default initial-letter weights, or len(boundaries)+1 ranges split at the
    given boundaries (increasing, no '@'). Any string compares `le` or `ge` to a boundary, and
    never equal to one (UPNs contain '@'), so the ranges cover all users and no user falls in
    two. Graph compares case-insensitively.
    """
    if not 2 <= n <= MAX_SHARDS:
        raise ValueError(f"shards must be between 2 and {MAX_SHARDS}, not {n}")
    bounds = list(boundaries) if boundaries else _boundaries(n)
    unusable = any(not b or "@" in b or "'" in b for b in bounds)
    if not bounds or unusable or bounds != sorted(set(bounds)) or len(bounds) >= n:
        raise ValueError(f"need fewer than {n} increasing boundaries without '@' or ': {bounds}")
    filters = [f"userPrincipalName le '{bounds[0]}'"]
    for low, high in pairwise(bounds):
        filters.append(f"userPrincipalName ge '{low}' and userPrincipalName le '{high}'")
    filters.append(f"userPrincipalName ge '{bounds[-1]}'")
    return filters


@dataclass(slots=True)
class _Event:
    shard: int
    page: Page | None = None  # None: the shard is finished (or failed)
    error: BaseException | None = None


class ShardReader:
    """One thread per shard feeding one bounded queue; the first pages wait for verification."""

    def __init__(self, client: GraphClient, params: dict[str, str | int], filters: list[str]):
        # Room for every shard's first page; beyond that, a slow consumer holds the shards back.
        self.events: queue.Queue[_Event] = queue.Queue(maxsize=len(filters))
        self.stop, self.go = threading.Event(), threading.Event()
        self.permits = threading.Semaphore(len(filters))
        self.threads = [
            threading.Thread(
                target=self._read,
                args=(client, {**params, "$filter": text, "$count": "true"}, index),
                name=f"graph-shard-{index}",
                daemon=True,
            )
            for index, text in enumerate(filters)
        ]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def _read(self, client: GraphClient, params: dict[str, str | int], shard: int) -> None:
        try:
            pages = client.iter_pages("/users", params, HEADERS, prefetch=False)
            number = 0
            while True:
                # After its first page, a shard fetches only with a permit: at most one page per
                # shard is fetched or queued ahead of the consumer, so memory stays flat.
                if number and not self._acquire():
                    return
                page = next(pages, None)
                if page is None:
                    self.permits.release()
                    break
                number += 1
                if not self._put(_Event(shard, page)):
                    return
                if number == 1 and not self._wait_for_go():
                    return
            self._put(_Event(shard))
        except BaseException as exc:  # handed to the consumer, who decides
            self._put(_Event(shard, error=exc))

    def _acquire(self) -> bool:
        while not self.stop.is_set():
            if self.permits.acquire(timeout=_POLL_SECONDS):
                return True
        return False

    def _put(self, event: _Event) -> bool:
        while not self.stop.is_set():
            try:
                self.events.put(event, timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def _wait_for_go(self) -> bool:
        while not self.go.wait(_POLL_SECONDS):
            if self.stop.is_set():
                return False
        return not self.stop.is_set()

    def close(self) -> None:
        self.stop.set()
        while True:  # unblock writers so they see `stop`
            try:
                self.events.get_nowait()
            except queue.Empty:
                break
        for thread in self.threads:
            thread.join(_JOIN_SECONDS)  # a request in flight finishes or times out on its own


def iter_user_pages_sharded(
    client: GraphClient,
    params: Mapping[str, str | int],
    *,
    shards: int = 8,
    on_mismatch: OnMismatch = "fallback",
    boundaries: Sequence[str] | None = None,
    seen: SeenUsers | None = None,
    deduplicate: bool = True,
) -> Generator[Page, None, None]:
    """Every /users page, read as `shards` concurrent UPN ranges merged into one page stream.

    Before any page is yielded, the shards' `@odata.count`s must add up to /users/$count; when
    they do not (or the tenant refuses the range filter), `on_mismatch` decides: "fallback" reads
    sequentially instead, "raise" raises ShardMismatch, "warn" logs and goes on. Users seen twice
    (renamed across ranges mid-read) are yielded once; pages are renumbered 1, 2, 3…
    `boundaries` (fewer than `shards`; see boundaries_from_sample) replace the default split.
    Every page yielded leaves out the users already in `seen` (a run-wide set, when given);
    `deduplicate=False` yields pages as read, for a caller that skips repeats itself (a full
    sync's row builder does, by primary key, for the whole run).
    """
    seen = seen if seen is not None else SeenUsers(enabled=deduplicate)
    plain = dict(params)
    if "$filter" in plain or "$orderby" in plain:
        raise ValueError("a sharded read owns $filter; read sequentially to filter")
    if shards <= 1:
        yield from seen.pages(client.iter_pages("/users", plain))
        return
    reader = ShardReader(client, plain, shard_filters(shards, boundaries))
    try:
        reader.start()
        firsts, problem = _first_pages(client, reader, len(reader.threads))
        if problem is None or (on_mismatch == "warn" and isinstance(problem, ShardMismatch)):
            if problem is not None:
                log.warning("sharded /users read: %s; going on (on_mismatch=warn)", problem)
            yield from _merge(reader, firsts, on_mismatch, seen)
            return
        refused = isinstance(problem, GraphError) and problem.status == 400
        if on_mismatch == "raise" or not (isinstance(problem, ShardMismatch) or refused):
            raise problem
        log.warning("sharded /users read not usable (%s); reading sequentially", problem)
        reader.close()
        yield from seen.pages(client.iter_pages("/users", plain))
    finally:
        reader.close()


def _first_pages(
    client: GraphClient, reader: ShardReader, n: int
) -> tuple[list[Page], BaseException | None]:
    """Each shard's first page, and what makes the partition unusable (None when it is sound)."""
    try:
        total = client.count_users()  # concurrent with the shards' first requests
    except GraphError as exc:
        return [], exc
    firsts: list[Page | None] = [None] * n
    for _ in range(n):
        event = reader.events.get()
        if event.error is not None:
            return [], event.error
        firsts[event.shard] = event.page
    pages = [page for page in firsts if page is not None]
    counts = [page.count for page in pages]
    if len(pages) < n or any(count is None for count in counts):
        return pages, ShardMismatch("a shard's first page has no @odata.count")
    summed = sum(count for count in counts if count is not None)
    if summed != total:
        return pages, ShardMismatch(f"shards hold {summed} users but /users/$count says {total}")
    return pages, None


def _merge(
    reader: ShardReader, firsts: list[Page], on_mismatch: OnMismatch, seen: SeenUsers
) -> Iterator[Page]:
    expected = [page.count or 0 for page in firsts]
    received = [0] * len(firsts)
    number = 0

    def emit(shard: int, page: Page) -> Page:
        nonlocal number
        received[shard] += len(page.items)
        kept = seen.new_items(page.items)
        number += 1
        return replace(page, items=kept, number=number, count=None, next_link=None)

    for shard, page in enumerate(firsts):
        yield emit(shard, page)
    reader.go.set()
    running = len(firsts)
    while running:
        event = reader.events.get()
        if event.error is not None:
            raise event.error
        if event.page is None:
            running -= 1
            continue
        reader.permits.release()  # the shard may fetch its next page while this one is handled
        yield emit(event.shard, event.page)
    if received != expected:
        problem = ShardMismatch(f"shards returned {received} users, their counts said {expected}")
        if on_mismatch == "raise":
            raise problem
        # The directory changed during the read; the deltaLink taken before it replays the change.
        log.warning("sharded /users read: %s", problem)
