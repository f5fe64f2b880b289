"""A full sync's user phase through shard processes: verify the ranges, keep the run's heartbeat."""

from __future__ import annotations

import logging
import time

from sqlalchemy import update

from licensewatch.graph.errors import GraphError
from licensewatch.storage.models import SyncRun, utcnow
from licensewatch.sync.shard_processes import ShardProcesses
from licensewatch.sync.shard_staging import ScratchStaging
from licensewatch.sync.shards import ShardMismatch
from licensewatch.sync.work import SyncWork

log = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 1.0


def stream(work: SyncWork, staging: ScratchStaging, processes: ShardProcesses) -> bool:
    """Read, build and store every user through `processes`; False: read in this process.

    As the threaded read (`iter_user_pages_sharded`, on_mismatch="fallback"): shard counts that
    do not add up to /users/$count, or a tenant that refuses the range filter (400), fall back
    to the sequential read before anything is stored; any other failure raises.
    """
    work._report("users")
    try:
        problem = processes.verify(work.client.count_users())
    except GraphError as exc:
        problem = exc
    if problem is not None:
        refused = isinstance(problem, GraphError) and problem.status == 400
        if not (isinstance(problem, ShardMismatch) or refused):
            raise problem
        log.warning("sharded /users read not usable (%s); reading sequentially", problem)
        processes.close()
        staging.scratch = []
        return False
    beat = _Heartbeat(work, staging)
    totals = processes.collect(beat)
    beat.write()
    work.sign_in_data = totals.sign_in
    for name in ("requests", "retries", "throttled", "pages", "bytes"):
        stats = work.client.stats
        setattr(stats, name, getattr(stats, name) + totals.stats.get(name, 0))
    # For benchmarks and operators: what the processes cost (peak RSS of each, summed).
    log.info(
        "%d shard processes: %d users, %.1f CPU s, peak RSS %d MiB summed",
        len(processes.children),
        totals.users,
        totals.cpu,
        totals.rss_kib // 1024,
        extra={"shard_rss_kib": totals.rss_kib, "shard_cpu": totals.cpu},
    )
    if totals.received != totals.expected:
        # The directory changed during the read; the deltaLink taken before it replays that.
        log.warning(
            "sharded /users read: shards returned %s users, their counts said %s",
            totals.received,
            totals.expected,
        )
    return True


class _Heartbeat:
    """The processes' progress on the run row, at most once a second (as batches commit)."""

    def __init__(self, work: SyncWork, staging: ScratchStaging) -> None:
        self.work, self.staging = work, staging
        self.written = time.monotonic()

    def __call__(self, users: int, pages: int, request_id: str | None) -> None:
        work = self.work
        work.users_read += users
        work.pages_read += pages
        work._remember(request_id)
        if time.monotonic() - self.written >= HEARTBEAT_SECONDS:
            self.write()
            work._report("users")

    def write(self) -> None:
        self.written = time.monotonic()
        work = self.work
        with self.staging.transaction(relaxed=True) as connection:
            connection.execute(
                update(SyncRun)
                .where(SyncRun.id == work.run_id)
                .values(
                    heartbeat_at=utcnow(),
                    users_read=work.users_read,
                    pages_read=work.pages_read,
                )
            )
