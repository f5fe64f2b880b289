"""Top-level `licensewatch sync`: progress, the outcome, failures with their fix."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer
from rich.markup import escape

from licensewatch.cli.output import (
    ExitCode,
    counted,
    expected_errors,
    fail,
    stderr,
    stdout,
)
from licensewatch.cli.progress import sync_progress
from licensewatch.services.tenants import TenantService
from licensewatch.sync.runner import Mode, SyncResult, run_sync


def cause_and_fix(result: SyncResult, name: str) -> tuple[str, str | None]:
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
    return cause, fix or f"run `licensewatch tenant test {name}` for a step-by-step diagnosis"


def summary(result: SyncResult) -> str:
    """`full sync: 2,000 users in 20 pages, 3.1 s (...)`; a delta counts the changed users."""
    from licensewatch.domain.schedule import SyncKind

    if result.kind == SyncKind.DELTA:
        read = f"delta sync: {counted(result.users_read, 'changed user')}"
    else:
        read = f"full sync: {counted(result.users_read, 'user')}"
    calls = f"{counted(result.requests, 'request')}, {counted(result.retries, 'retry', 'retries')}"
    return (
        f"{read} in {counted(result.pages_read, 'page')}, {result.duration_ms / 1000:.1f} s "
        f"({calls}); {counted(result.changes, 'licence change')}"
    )


def _users_now(service: TenantService, tenant_pk: int) -> int | None:
    """Users in the tenant's current dataset: what a full read will roughly find."""
    from sqlalchemy import select

    from licensewatch.storage.database import session_scope
    from licensewatch.storage.models import Tenant

    with session_scope(service.engine, write=False) as session:
        # Stored by the syncs (not counted: a read of every user of a large tenant).
        count = session.scalar(select(Tenant.user_count).where(Tenant.id == tenant_pk))
    return int(count) if count else None


class SyncMode(StrEnum):
    AUTO = "auto"
    FULL = "full"
    DELTA = "delta"


def sync_tenant(
    service: TenantService,
    name: str,
    *,
    mode: Mode = "auto",
    shards: int = 1,
    shard_processes: int = 1,
) -> SyncResult:
    """One tenant's sync with progress output; prints the outcome."""
    connection = service.connection_for(name)
    tenant_pk = service.show(name).id
    from licensewatch.intelligence.read_models.build import publish_read_models
    from licensewatch.intelligence.read_models.recommendations_build import (
        publish_recommendations,
    )

    with sync_progress(name, _users_now(service, tenant_pk)) as progress:
        result = run_sync(
            service.engine,
            tenant_pk,
            connection,
            mode=mode,
            shards=shards,
            shard_processes=shard_processes,
            progress=progress,
            on_publish=publish_read_models,
            on_usage=publish_recommendations,
        )
    if result.ok:
        stdout().print(f"[green]✓[/] {escape(name)}: {escape(summary(result))}")
    else:
        cause, fix = cause_and_fix(result, name)
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
    shard_processes: Annotated[
        int | None,
        typer.Option(
            min=0,
            max=64,
            help="With --shards: read, build and store the ranges in N processes (0: one per "
            "core). Default: LICENSEWATCH_SHARD_PROCESSES (1: threads of one process).",
        ),
    ] = None,
) -> None:
    """Collect users, SKUs and subscriptions now; exit 1 if any tenant failed."""
    from licensewatch.cli.tenants import tenant_service
    from licensewatch.settings import load_settings

    if shard_processes is None:
        shard_processes = load_settings().shard_processes

    if bool(names) == all_:
        fail("name one or more tenants, or use --all")
    failed = 0
    with expected_errors(), tenant_service() as service:
        targets = [view.name for view in service.list()] if all_ else list(names or [])
        if not targets:
            fail("no tenants configured: licensewatch tenant add --help")
        for name in targets:
            try:
                result = sync_tenant(
                    service, name, mode=mode.value, shards=shards, shard_processes=shard_processes
                )
                failed += not result.ok
            except Exception as error:
                if len(targets) == 1:
                    raise
                failed += 1
                stderr().print(f"[red]✗[/] {escape(name)}: {escape(str(error))}", soft_wrap=True)
    raise typer.Exit(ExitCode.FAILED if failed else ExitCode.OK)
