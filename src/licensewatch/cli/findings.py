"""`licensewatch findings`: named rules with affected users, money at stake and the fix."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from licensewatch.cli.catalog import FormatOpt, ProductArg, intelligence_engine
from licensewatch.cli.output import OutputFormat, print_csv, print_json, stdout

findings_app = typer.Typer(
    help="Findings: unassigned seats, disabled/guest holders, overlaps, errors, lapsing, inactive."
)


@findings_app.callback(invoke_without_command=True)
def findings(
    ctx: typer.Context,
    tenant: Annotated[str | None, typer.Option("--tenant", help="Only this tenant.")] = None,
    output: FormatOpt = OutputFormat.TABLE,
    show_all: Annotated[bool, typer.Option("--all", help="Also rules with nothing found.")] = False,
    limit: Annotated[
        int,
        typer.Option("--limit", min=0, help="Affected rows listed per rule in the table (0: all)."),
    ] = 50,
) -> None:
    """Every rule over the current data, from the stored findings; users named by UPN."""
    if ctx.invoked_subcommand is not None:
        return
    from licensewatch.intelligence.findings import CSV_COLUMNS
    from licensewatch.intelligence.read_models.readers import (
        findings_csv,
        stored_findings,
        tenant_names,
    )

    with intelligence_engine() as engine:
        if output == OutputFormat.CSV:
            print_csv(findings_csv(engine, tenant_names(engine, tenant)), CSV_COLUMNS)
            return
        listed = None if output == OutputFormat.JSON or limit == 0 else limit
        results = stored_findings(engine, tenant, limit=listed)
    if output == OutputFormat.JSON:
        print_json([f.to_dict() for f in results])
        return
    console = stdout()
    shown = 0
    for f in results:
        if not (f.count or f.unavailable or show_all):
            continue
        shown += 1
        money = f" · {f.cost.text()} per month" if f.cost is not None and f.count else ""
        console.print(f"[bold]{escape(f.tenant)}: {escape(f.title)}[/] ({f.count}){escape(money)}")
        if f.unavailable:
            console.print(f"  [yellow]unavailable:[/] {escape(f.unavailable)}", soft_wrap=True)
            continue
        for a in f.affected:
            who = a.key if f.subject == "users" else a.name
            console.print(f"  - {escape(who)}: {escape(a.detail)}", soft_wrap=True)
        if f.next_cursor is not None:
            more = f.count - len(f.affected) if f.subject == "users" else None
            what = f"{more:,} more" if more else "more"
            console.print(f"  … {what} (--limit 0 lists all; --format csv exports them)")
        if f.count:
            console.print(f"  [bold]fix:[/] {escape(f.fix)}", soft_wrap=True)
    if not shown:
        console.print("No findings: nothing to fix." if results else "No tenants synced yet.")


@findings_app.command("exclude")
def exclude(
    product: ProductArg,
    scope: Annotated[str, typer.Option("--scope", help="everywhere or alerts.")] = "everywhere",
) -> None:
    """Ignore a product in findings and alerts (everywhere) or in alerts only."""
    from licensewatch.intelligence.catalog import display_name
    from licensewatch.intelligence.exclusions import exclude as store
    from licensewatch.storage.database import session_scope

    with intelligence_engine(changes_inputs=True) as engine:
        sku_id, part = store(engine, product, scope)
        with session_scope(engine, write=False) as session:
            name = display_name(session, sku_id, part or sku_id)
    stdout().print(f"{escape(name)} is excluded ({scope}).")


@findings_app.command("include")
def include(product: ProductArg) -> None:
    """Stop excluding a product."""
    from licensewatch.intelligence.exclusions import include as remove

    with intelligence_engine(changes_inputs=True) as engine:
        removed = remove(engine, product)
    stdout().print("Exclusion removed." if removed else "That product was not excluded.")


@findings_app.command("settings")
def settings(
    key: Annotated[
        str | None,
        typer.Argument(
            help="cost_attribute, inactive_days, lapse_days, disabled_days, renewal_buffer_percent."
        ),
    ] = None,
    value: Annotated[str | None, typer.Argument(help="The new value.")] = None,
) -> None:
    """Show the settings, or change one (e.g. `findings settings inactive_days 60`)."""
    from licensewatch.intelligence.settings import read_settings, write_setting
    from licensewatch.storage.database import session_scope

    changes = key is not None and value is not None
    with intelligence_engine(changes_inputs=changes) as engine:
        if key is not None and value is not None:
            write_setting(engine, key, value)
        with session_scope(engine, write=False) as session:
            current = read_settings(session)
    for name, setting in current.items():
        stdout().print(f"{name} = {escape(setting)}")
