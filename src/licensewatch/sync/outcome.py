"""How a sync ended: its result, and recording a failure on the run row without losing data."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from sqlalchemy import Engine, update

from licensewatch.domain.schedule import SyncKind
from licensewatch.graph.auth import AuthError
from licensewatch.graph.client import GraphClient
from licensewatch.graph.errors import GraphError
from licensewatch.storage.database import write_transaction
from licensewatch.storage.models import SyncRun, SyncStatus, utcnow
from licensewatch.storage.writers import delete_datasets
from licensewatch.sync.work import SyncWork

log = logging.getLogger(__name__)

_RECORD_ATTEMPTS = 4


@dataclass(slots=True)
class SyncResult:
    """How a sync ended; `error` holds the exception of a FAILED run."""

    run_id: int
    status: SyncStatus
    kind: SyncKind = SyncKind.FULL
    users_read: int = 0
    pages_read: int = 0
    requests: int = 0
    retries: int = 0
    throttled: int = 0
    duration_ms: int = 0
    sign_in_data: bool | None = None
    changes: int = 0  # licence_changes rows the run recorded
    note: str | None = None  # why a delta run became a full one (delta_expired, no_delta_link…)
    error_kind: str | None = None
    error_message: str | None = None
    request_ids: list[str] = field(default_factory=list)
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.status == SyncStatus.COMPLETED


def collect(
    result: SyncResult, work: SyncWork | None, client: GraphClient | None, started: float
) -> None:
    result.duration_ms = int((time.monotonic() - started) * 1000)
    if work is not None:
        result.users_read, result.pages_read = work.users_read, work.pages_read
        result.sign_in_data, result.changes = work.sign_in_data, work.changes
        result.request_ids = list(work.request_ids)
    if client is not None:
        stats = client.stats
        result.requests, result.retries, result.throttled = (
            stats.requests,
            stats.retries,
            stats.throttled,
        )


def _describe(exc: BaseException) -> tuple[str, str, str | None]:
    """(error kind, message, request id) for the run row; never a secret (errors carry none)."""
    if isinstance(exc, GraphError):
        kind = type(exc).__name__ + (f":{exc.code}" if exc.code else "")
        message = str(exc)
        missing = getattr(exc, "missing_permission", None)
        if missing:
            message += (
                f" Missing application permission {missing}: add it in the app registration's"
                " API permissions and grant admin consent."
            )
        return kind, message, exc.request_id
    if isinstance(exc, AuthError):
        return f"AuthError:{exc.kind}", f"{exc.message} Fix: {exc.fix}", exc.correlation_id
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted", "the sync was interrupted", None
    return type(exc).__name__, str(exc) or type(exc).__name__, None


def fail(engine: Engine, result: SyncResult, exc: BaseException) -> None:
    kind, message, request_id = _describe(exc)
    if request_id and request_id not in result.request_ids:
        result.request_ids.append(request_id)
    result.status, result.error_kind, result.error_message = SyncStatus.FAILED, kind, message
    result.error = exc
    # The pointer never moved: the new dataset is invisible. Remove it now, or the next run will.
    drop_dataset(engine, result.run_id)
    for attempt in range(_RECORD_ATTEMPTS):
        try:
            _record_failure(engine, result, kind, message)
            return
        except Exception:  # the database itself may be what failed: wait for it a little
            if attempt == _RECORD_ATTEMPTS - 1:
                # The next run on this host sees the run is no longer alive and closes it.
                log.exception("could not record the failure of sync run %s", result.run_id)
            else:
                time.sleep(0.5 * 2**attempt)


def _record_failure(engine: Engine, result: SyncResult, kind: str, message: str) -> None:
    with write_transaction(engine) as db:
        db.execute(
            update(SyncRun)
            .where(SyncRun.id == result.run_id)
            .values(
                status=SyncStatus.FAILED,
                finished_at=utcnow(),
                duration_ms=result.duration_ms,
                users_read=result.users_read,
                pages_read=result.pages_read,
                requests=result.requests,
                retries=result.retries,
                throttled=result.throttled,
                error_kind=kind[:80],
                error_message=message,
                request_ids=result.request_ids[-20:],
            )
        )


def drop_dataset(engine: Engine, dataset_id: int) -> None:
    try:
        with write_transaction(engine) as db:
            delete_datasets(db, [dataset_id])
    except Exception:  # best effort: remove_orphans retries at the start of the next run
        log.warning("could not delete dataset %s; the next run will", dataset_id, exc_info=True)
