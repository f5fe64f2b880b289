"""Top-level `licensewatch sync` (progress, failures with their fix) and `licensewatch balance`."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import Progress, TaskID, TextColumn, TimeElapsedColumn

from licensewatch.cli.output import (
    ExitCode,
    OutputFormat,
    expected_errors,
    fail,
    info,
    print_csv,
    print_json,
    stderr,
    stdout,
    table,
)
from licensewatch.domain.balance import BALANCE_COLUMNS, BalanceRow, totals
from licensewatch.domain.sections import Section
from licensewatch.services.tenants import TenantService
from licensewatch.sync.runner import Mode, SyncResult, run_sync
from licensewatch.sync.work import SyncProgress

ProgressCallback = Callable[[SyncProgress], None]


@contextmanager
def _progress(name: str) -> Iterator[ProgressCallback]:
    """A Rich bar (pages, users, users/s) on a terminal; plain lines (phase, 10 pages) otherwise."""
    started = time.monotonic()
    if sys.stdout.isatty():
        columns = (
            TextColumn("[bold]{task.description}"),
            TextColumn("{task.fields[phase]}"),
            TextColumn("{task.fields[pages]} pages"),
            TextColumn("{task.completed:.0f} users"),
            TextColumn("{task.fields[rate]} users/s"),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=stdout(), transient=True) as bar:
            task: TaskID = bar.add_task(name, total=None, phase="", pages=0, rate="0")

            def update(event: SyncProgress) -> None:
                rate = event.users_read / max(time.monotonic() - started, 1e-6)
                bar.update(
                    task,
                    completed=event.users_read,
                    phase=event.phase,
                    pages=event.pages_read,
                    rate=f"{rate:,.0f}",
                )

            yield update
        return
    last: list[tuple[str, int]] = [("", -1)]

    def log_line(event: SyncProgress) -> None:
        phase, pages = last[0]
        if event.phase != phase or event.pages_read >= pages + 10:
            last[0] = (event.phase, event.pages_read)
            rate = event.users_read / max(time.monotonic() - started, 1e-6)
            info(
                f"{name}: {event.phase}: {event.pages_read} pages, {event.users_read} users "
                f"({rate:,.0f} users/s)"
            )

    yield log_line


def cause_and_fix(result: SyncResult) -> tuple[str, str | None]:
    """The failure in one line and what the admin should do about it."""
    from licensewatch.graph.auth import AuthError
    from licensewatch.graph.errors import GraphAuthorizationError

    error = result.error
    if isinstance(error, AuthError):
        return error.message, error.fix
    if isinstance(error, GraphAuthorizationError):
        permission = error.missing_permission or "Directory.Read.All and User.Read.All"
        return str(error), (
            f"add the Microsoft Graph application permission {permission} to the app and click "
            "'Grant admin consent' (Entra ID > App registrations > <app> > API permissions)"
        )
    message = result.error_message or (str(error) if error else "unknown failure")
    cause, _, fix = message.partition(" Fix: ")
    return cause, fix or "run `licensewatch tenant test NAME` for a step-by-step diagnosis"


class SyncMode(StrEnum):
    AUTO = "auto"
    FULL = "full"
    DELTA = "delta"


def sync_tenant(
    service: TenantService, name: str, *, mode: Mode = "auto", shards: int = 1
) -> SyncResult:
    """One tenant's sync with progress output; prints the outcome."""
    connection = service.connection_for(name)
    tenant_pk = service.show(name).id
    with _progress(name) as progress:
        result = run_sync(
            service.engine, tenant_pk, connection, mode=mode, shards=shards, progress=progress
        )
    if result.ok:
        seconds = result.duration_ms / 1000
        stdout().print(
            f"[green]✓[/] {escape(name)}: {result.users_read} users, {result.pages_read} pages "
            f"in {seconds:.1f} s ({result.requests} requests, {result.retries} retries)"
        )
    else:
        cause, fix = cause_and_fix(result)
        console = stderr()
        console.print(f"[red]✗[/] {escape(name)}: sync failed: {escape(cause)}", soft_wrap=True)
        if fix:
            console.print(f"  [bold]fix:[/] {escape(fix)}", soft_wrap=True)
    return result


def sync(
    names: Annotated[list[str] | None, typer.Argument(help="Tenant name(s).")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Sync every tenant.")] = False,
    mode: Annotated[
        SyncMode,
        typer.Option(help="auto: delta when a recent full read allows it; full; or delta."),
    ] = SyncMode.AUTO,
    shards: Annotated[
        int,
        typer.Option(min=1, max=64, help="Read users through N parallel userPrincipalName ranges."),
    ] = 1,
) -> None:
    """Collect users, SKUs and subscriptions now; exit 1 if any tenant failed."""
    from licensewatch.cli.tenants import tenant_service

    if bool(names) == all_:
        fail("name one or more tenants, or use --all")
    failed = 0
    with expected_errors(), tenant_service() as service:
        targets = [view.name for view in service.list()] if all_ else list(names or [])
        if not targets:
            fail("no tenants configured: licensewatch tenant add --help")
        for name in targets:
            try:
                result = sync_tenant(service, name, mode=mode.value, shards=shards)
                failed += not result.ok
            except Exception as error:
                if len(targets) == 1:
                    raise
                failed += 1
                stderr().print(f"[red]✗[/] {escape(name)}: {escape(str(error))}", soft_wrap=True)
    raise typer.Exit(ExitCode.FAILED if failed else ExitCode.OK)


_NUMERIC = (
    "purchased",
    "grace",
    "trial",
    "lapsed",
    "assigned",
    "available",
    "direct",
    "via groups",
)


def _numbers(row: BalanceRow) -> list[int]:
    return [
        row.purchased, row.grace, row.trial, row.suspended + row.locked_out, row.consumed,
        row.available, row.assigned_directly, row.assigned_via_groups,
    ]  # fmt: skip


def print_balance_table(rows: list[BalanceRow]) -> None:
    """Paid products with a totals line (over-assigned and lapsed rows in red), then the free and
    tenant-wide products apart: they are never summed, priced or flagged."""
    tenants = {row.tenant for row in rows}
    paid = [row for row in rows if row.paid]
    columns = ["tenant"] * (len(tenants) > 1) + ["product", "SKU", *_NUMERIC, "used", "renewal"]
    result = table("Licence balance (paid products)", columns, numeric=(*_NUMERIC, "used"))
    for row in paid:
        used = f"{row.utilisation:.0%}" if row.utilisation is not None else "-"
        renewal = f"{row.next_renewal:%Y-%m-%d}" if row.next_renewal else "-"
        renewal += " (grace)" if row.renewal_in_grace else ""
        cells = [row.tenant] * (len(tenants) > 1) + [row.name, row.sku_part_number]
        cells += [*map(str, _numbers(row)), used, renewal]
        result.add_row(*cells, style="red" if row.over_assigned or row.lapsed else None)
    sums = totals(rows)
    footer = [sums.purchased, sums.grace, sums.trial]
    footer += [sum(r.suspended + r.locked_out for r in paid), sums.consumed, sums.available]
    footer += [sum(r.assigned_directly for r in paid), sum(r.assigned_via_groups for r in paid)]
    label = ["total"] + [""] * (len(tenants) > 1) + [f"{len(paid)} SKUs"]
    result.add_row(*label, *map(str, footer), "", "", style="bold", end_section=True)
    stdout().print(result)
    over = [row for row in paid if row.over_assigned]
    if over:
        names = ", ".join(f"{row.name} ({row.over_assigned_units})" for row in over)
        stdout().print(f"[red]Over-assigned:[/] {escape(names)} (buy seats or remove licences)")
    lapsed = [row for row in paid if row.lapsed]
    if lapsed:
        names = ", ".join(f"{row.name} ({row.lapsed_holders} holders)" for row in lapsed)
        stdout().print(
            f"[red]Lapsed with holders:[/] {escape(names)} (renew, or move them before the date)"
        )
    others = [row for row in rows if not row.paid]
    if others:
        extra = table(
            "Free and tenant-wide products (not counted in the totals)",
            ["tenant"] * (len(tenants) > 1) + ["product", "SKU", "kind", "units", "assigned"],
            numeric=("units", "assigned"),
        )
        for row in others:
            kind = "free" if row.section == Section.FREE else "tenant-wide"
            cells = [row.tenant] * (len(tenants) > 1) + [row.name, row.sku_part_number, kind]
            extra.add_row(*cells, str(row.purchased + row.trial), str(row.consumed))
        stdout().print(extra)


def balance(
    tenant: Annotated[str | None, typer.Option("--tenant", help="Only this tenant.")] = None,
    output: Annotated[
        OutputFormat, typer.Option("--format", help="table, json or csv.")
    ] = OutputFormat.TABLE,
) -> None:
    """Licence balance per SKU: purchased (grace beside), trial, lapsed, assigned, available."""
    from licensewatch.cli.tenants import tenant_service
    from licensewatch.intelligence.catalog import with_names
    from licensewatch.storage.database import session_scope
    from licensewatch.storage.queries import balance_rows

    with expected_errors(), tenant_service() as service:
        if tenant is not None:
            tenant = service.show(tenant).name
        with session_scope(service.engine, write=False) as session:
            rows = with_names(session, balance_rows(session, tenant_name=tenant))
    if output == OutputFormat.JSON:
        print_json([row.to_dict() for row in rows])
    elif output == OutputFormat.CSV:
        print_csv(
            [dict(zip(BALANCE_COLUMNS, row.csv_cells(), strict=True)) for row in rows],
            BALANCE_COLUMNS,
        )
    elif not rows:
        stdout().print("No licence data yet: run `licensewatch sync NAME` first.")
    else:
        print_balance_table(rows)


def register_report_commands(app: typer.Typer) -> None:
    """Adds the top-level `sync` and `balance` commands."""
    app.command("sync")(sync)
    app.command("balance")(balance)
