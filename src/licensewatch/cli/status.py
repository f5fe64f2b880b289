"""Top-level `licensewatch status`: each tenant's syncs (success, error, next run, lease)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer

from licensewatch.cli.output import ExitCode, OutputFormat, expected_errors, print_csv, print_json
from licensewatch.cli.tables import Column, Line, WideOpt, print_table

if TYPE_CHECKING:
    from licensewatch.observability.fleet import TenantStatus

_COLUMNS = (
    Column("tenant", fold=True),
    Column("last success", priority=1),
    Column("next run", priority=4),
    Column("users", priority=2, numeric=True),
    Column("duration", priority=5, numeric=True),
    Column("delta age", priority=6, numeric=True),
    Column("failures", priority=3, numeric=True),
    Column("lease", priority=7),
    Column("last error", fold=True),
)


def _when(value: datetime | None, now: datetime) -> str:
    if value is None:
        return "-"
    seconds = (value - now).total_seconds()
    ago = seconds < 0
    seconds = abs(seconds)
    amount = (
        f"{seconds:.0f}s"
        if seconds < 90
        else f"{seconds / 60:.0f}m"
        if seconds < 5400
        else f"{seconds / 3600:.1f}h"
    )
    return f"{amount} ago" if ago else f"in {amount}"


def latest_failed(row: TenantStatus) -> bool:
    """The tenant's latest sync failed: the daemon backs off, or a manual `sync` failed."""
    if row.failing:
        return True
    if row.last_error_at is None:
        return False
    return row.last_success_at is None or row.last_error_at > row.last_success_at


def _line(row: TenantStatus, now: datetime) -> Line:
    delta = f"{row.delta_age_seconds / 3600:.1f}h" if row.delta_age_seconds else "-"
    duration = f"{row.last_duration_seconds:.1f}s" if row.last_duration_seconds else "-"
    failed = latest_failed(row)
    cells = [
        row.name,
        _when(row.last_success_at, now),
        _when(row.next_sync_at, now),
        f"{row.users:,}",
        duration,
        delta,
        str(row.consecutive_failures),
        row.lease_owner or "-",
        (row.last_error if failed else None) or "-",
    ]
    return Line(cells, style="red" if failed else None)


def status(
    output: Annotated[
        OutputFormat, typer.Option("--format", help="table, json or csv.")
    ] = OutputFormat.TABLE,
    wide: WideOpt = False,
) -> None:
    """Per tenant: last success, last error and cause, next run, users, failures, lease."""
    from licensewatch.cli.database import read_snapshot
    from licensewatch.observability.fleet import tenant_status
    from licensewatch.storage.clock import utcnow

    with expected_errors(), read_snapshot() as bind:
        now = utcnow()
        rows = tenant_status(bind, now)
    if output == OutputFormat.JSON:
        print_json([row.to_dict() for row in rows])
    elif output == OutputFormat.CSV:
        dicts = [row.to_dict() for row in rows]
        print_csv(dicts, list(dicts[0]) if dicts else ["name"])
    elif not rows:
        typer.echo("No tenants configured: licensewatch tenant add --help")
    else:
        print_table("Sync status", _COLUMNS, [_line(row, now) for row in rows], wide=wide)
    raise typer.Exit(ExitCode.OK)
