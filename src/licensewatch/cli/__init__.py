"""The `licensewatch` command line: one sub-module per command group, imported when it runs."""

from __future__ import annotations

from typing import Annotated

import typer

import licensewatch
from licensewatch.cli.lazy import LazyCommand, LazyGroup

# Name → module (under licensewatch.cli), attribute (a command or a Typer) and the one-line
# help of the listing; a test checks that each help equals the command's own.
COMMANDS: dict[str, LazyCommand] = {
    "tenant": LazyCommand(
        "licensewatch.cli.tenants",
        "tenant_app",
        "Add, inspect, change, remove and test Microsoft 365 tenants.",
    ),
    "sync": LazyCommand(
        "licensewatch.cli.sync",
        "sync",
        "Collect users, SKUs and subscriptions now; exit 1 if any tenant failed.",
    ),
    "balance": LazyCommand(
        "licensewatch.cli.balance",
        "balance",
        "Licence balance per SKU: purchased (grace beside), trial, lapsed, assigned, available.",
    ),
    "status": LazyCommand(
        "licensewatch.cli.status",
        "status",
        "Per tenant: last success, last error and cause, next run, users, failures, lease.",
    ),
    "changes": LazyCommand(
        "licensewatch.cli.changes",
        "changes",
        "Licence changes seen by syncs: licences gained or lost, accounts, users, units bought.",
    ),
    "costs": LazyCommand(
        "licensewatch.cli.costs",
        "costs",
        "Licence costs per month and year: purchased, assigned, unassigned, by department etc.",
    ),
    "findings": LazyCommand(
        "licensewatch.cli.findings",
        "findings_app",
        "Findings: unassigned seats, disabled/guest holders, overlaps, errors, lapsing, inactive.",
    ),
    "usage": LazyCommand(
        "licensewatch.cli.usage",
        "usage",
        "Usage reports per tenant: as of when, tenant-wide counts, or what is missing and the fix.",
    ),
    "recommendations": LazyCommand(
        "licensewatch.cli.recommendations",
        "recommendations_app",
        "Per-user licence actions (remove, downgrade, duplicate, add-on) with the saving.",
    ),
    "catalog": LazyCommand(
        "licensewatch.cli.catalog",
        "catalog_app",
        "Friendly product names: import, name, list unknown SKUs.",
    ),
    "prices": LazyCommand(
        "licensewatch.cli.prices",
        "prices_app",
        "Product prices: set, list, remove, import.",
    ),
    "renewals": LazyCommand(
        "licensewatch.cli.renewals",
        "renewals_app",
        "Renewals: how many seats to renew, and what it saves.",
    ),
    "report": LazyCommand(
        "licensewatch.cli.report",
        "report_app",
        "The licence report: write it, e-mail it, schedule it.",
    ),
    "alerts": LazyCommand(
        "licensewatch.cli.alerts",
        "alerts_app",
        "Alert rules, destinations and their log.",
    ),
    "plan": LazyCommand(
        "licensewatch.cli.plans",
        "plan_app",
        "Licence change plans: create, review, approve, apply, undo (writes to Microsoft 365).",
    ),
    "serve": LazyCommand(
        "licensewatch.cli.web",
        "serve",
        "Serve the dashboard, the REST API (/api/v1, docs at /api/docs) and /healthz.",
    ),
    "user": LazyCommand(
        "licensewatch.cli.web",
        "user_app",
        "Manage the web app's local accounts.",
    ),
    "token": LazyCommand(
        "licensewatch.cli.web",
        "token_app",
        "Manage personal REST API tokens.",
    ),
    "daemon": LazyCommand(
        "licensewatch.cli.daemon",
        "daemon",
        "Sync every tenant on its interval (one process; SQLite or PostgreSQL).",
    ),
    "worker": LazyCommand(
        "licensewatch.cli.daemon",
        "worker",
        "A scale-out worker: any number of them, on any machines, sharing one PostgreSQL.",
    ),
    "enqueue": LazyCommand(
        "licensewatch.cli.daemon",
        "enqueue",
        "Enqueue a sync job for every due tenant now, for the workers (PostgreSQL).",
    ),
    "sso": LazyCommand(
        "licensewatch.cli.sso",
        "sso_app",
        "Sign in to the web app with Microsoft Entra ID (OIDC, PKCE, roles from Entra).",
    ),
    "audit": LazyCommand(
        "licensewatch.cli.audit",
        "audit",
        "The audit log: admin actions, exports and sign-ins, newest first (never a secret).",
    ),
    "key": LazyCommand(
        "licensewatch.cli.keys",
        "key_app",
        "Manage the key that encrypts secrets at rest.",
    ),
    "emulator": LazyCommand(
        "licensewatch.cli.emulator",
        "emulator_app",
        "The built-in Microsoft cloud emulator (Entra + Graph, offline).",
    ),
    "demo": LazyCommand(
        "licensewatch.cli.demo",
        "demo",
        "Run the product against the built-in Microsoft cloud emulator (no Microsoft account).",
    ),
}


class _Commands(LazyGroup):
    lazy_commands = COMMANDS


app = typer.Typer(
    name="licensewatch",
    cls=_Commands,
    help=(
        "Microsoft 365 licence balance: collect users, SKUs and licence consumption "
        "through Microsoft Graph."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # Plain help for the listing: see LazyGroup. Each command's own help stays rich.
    rich_markup_mode=None,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"licensewatch {licensewatch.__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option(
            "--version", is_eager=True, callback=_print_version, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Options that apply before any command."""
    from licensewatch.services.acting import acting_as, cli_host, cli_user

    # Whatever the command changes is recorded in the audit log as the OS user who ran it;
    # the context ends with the command (tests run many commands in one process).
    ctx.with_resource(acting_as(cli_user(), cli_host()))


def main() -> None:
    app()
