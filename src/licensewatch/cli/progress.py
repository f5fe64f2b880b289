"""Progress of a sync: a bar with total, percentage and ETA on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from licensewatch.cli.output import counted, info, stdout
from licensewatch.sync.work import SyncProgress

ProgressCallback = Callable[[SyncProgress], None]
# The phase that reads every user: the only one whose total the last dataset predicts.
_FULL_READ = "users"


def _expected(event: SyncProgress, expected: int | None) -> int | None:
    if expected is None or event.phase != _FULL_READ:
        return None
    return max(expected, event.users_read)  # the tenant grew: the bar ends at 100 %, not beyond


@contextmanager
def sync_progress(name: str, expected_users: int | None) -> Iterator[ProgressCallback]:
    """Reports a sync's progress; `expected_users` (the last dataset's) gives total and ETA."""
    started = time.monotonic()
    if sys.stdout.isatty():
        with _bar(name, expected_users, started) as update:
            yield update
        return
    last: list[tuple[str, int]] = [("", -1)]

    def log_line(event: SyncProgress) -> None:
        phase, pages = last[0]
        if event.phase != phase or event.pages_read >= pages + 10:
            last[0] = (event.phase, event.pages_read)
            rate = event.users_read / max(time.monotonic() - started, 1e-6)
            total = _expected(event, expected_users)
            of = f" of ~{total:,} ({event.users_read / total:.0%})" if total else ""
            info(
                f"{name}: {event.phase}: {counted(event.pages_read, 'page')}, "
                f"{counted(event.users_read, 'user')}{of} ({rate:,.0f} users/s)"
            )

    yield log_line


@contextmanager
def _bar(name: str, expected_users: int | None, started: float) -> Iterator[ProgressCallback]:
    columns = (
        TextColumn("[bold]{task.description}"),
        TextColumn("{task.fields[phase]}"),
        BarColumn(bar_width=20),
        TaskProgressColumn(),
        TextColumn("{task.completed:,.0f} users · {task.fields[pages]} pages"),
        TextColumn("{task.fields[rate]} users/s"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=stdout(), transient=True) as bar:
        task: TaskID = bar.add_task(name, total=None, phase="", pages=0, rate="0")

        def update(event: SyncProgress) -> None:
            rate = event.users_read / max(time.monotonic() - started, 1e-6)
            bar.update(
                task,
                total=_expected(event, expected_users),
                completed=event.users_read,
                phase=event.phase,
                pages=event.pages_read,
                rate=f"{rate:,.0f}",
            )

        yield update
