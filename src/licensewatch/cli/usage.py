"""`licensewatch usage`: per tenant, usage reports as of when, counts, or what is missing."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from licensewatch.cli.catalog import FormatOpt, intelligence_engine
from licensewatch.cli.output import OutputFormat, print_csv, print_json, stdout

_COUNTS = (
    ("users", "users in the reports"),
    ("active_any", "active in any workload"),
    ("inactive", "no activity in the period"),
    ("active_exchange", "active in Exchange"),
    ("active_teams", "active in Teams"),
    ("active_onedrive", "active in OneDrive"),
    ("active_sharepoint", "active in SharePoint"),
    ("apps_windows", "Office apps on Windows"),
    ("apps_mac", "Office apps on Mac"),
    ("apps_mobile", "Office apps on mobile"),
    ("apps_web", "Office for the web"),
    ("mailboxes", "mailboxes"),
)
CSV_COLUMNS = ("tenant", "state", "as_of", "period", "collected_at", "message", "fix")


def usage(
    tenant: Annotated[str | None, typer.Option("--tenant", help="Only this tenant.")] = None,
    output: FormatOpt = OutputFormat.TABLE,
) -> None:
    """Usage reports per tenant: as of when, tenant-wide counts, or what is missing and the fix."""
    from licensewatch.intelligence.recommendations import usage_states

    with intelligence_engine() as engine:
        states = usage_states(engine, tenant)
    if output == OutputFormat.JSON:
        print_json([s.to_dict() for s in states])
        return
    if output == OutputFormat.CSV:
        print_csv([s.to_dict() for s in states], CSV_COLUMNS)
        return
    console = stdout()
    if not states:
        console.print("No tenants yet: add one with `licensewatch tenant add`.")
    for state in states:
        mark = "[green]✓[/]" if state.per_user else "[yellow]![/]"
        console.print(f"{mark} [bold]{escape(state.tenant)}[/]: {escape(state.message)}")
        if state.fix:
            console.print(f"    [bold]fix:[/] {escape(state.fix)}", soft_wrap=True)
        for key, label in _COUNTS:
            if key in state.counts:
                console.print(f"    {state.counts[key]:>8,}  {label}")
