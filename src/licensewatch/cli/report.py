"""`licensewatch report`: the licence report as HTML, zipped CSVs or XLSX; e-mailed or scheduled."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from licensewatch.cli.catalog import intelligence_engine
from licensewatch.cli.output import fail, print_json, stdout

report_app = typer.Typer(help="The licence report: write it, e-mail it, schedule it.")
TenantOpt = Annotated[str | None, typer.Option("--tenant", help="Only this tenant.")]


@report_app.callback(invoke_without_command=True)
def report(
    ctx: typer.Context,
    tenant: TenantOpt = None,
    output_format: Annotated[
        str, typer.Option("--format", help="html, csv (a ZIP) or xlsx.")
    ] = "html",
    output: Annotated[Path | None, typer.Option("--output", help="File to write.")] = None,
    days: Annotated[int, typer.Option("--days", help="Changes of the last N days.")] = 7,
) -> None:
    """Write the report (balance, costs, findings, recent changes) to a file."""
    if ctx.invoked_subcommand is not None:
        return
    from licensewatch.intelligence.report_formats import render_html, to_csv_zip, to_xlsx
    from licensewatch.intelligence.reports import build_report

    if output is None:
        fail("--output FILE is required")
    writers = {"html": lambda r: render_html(r).encode(), "csv": to_csv_zip, "xlsx": to_xlsx}
    if output_format not in writers:
        fail("--format must be html, csv or xlsx")
    from licensewatch.services.audit import note

    with intelligence_engine() as engine:
        data = writers[output_format](build_report(engine, tenant, days=days))
        output.write_bytes(data)
        detail = {"dataset": "report", "format": output_format, "tenant": tenant or "all"}
        note(engine, "export.written", {**detail, "file": str(output.resolve())})
    stdout().print(f"Wrote {escape(str(output))} ({len(data):,} bytes).")


@report_app.command("send")
def send(
    to: Annotated[str, typer.Option("--to", help="An e-mail destination (alerts destination).")],
    tenant: TenantOpt = None,
    days: Annotated[int, typer.Option("--days")] = 7,
) -> None:
    """E-mail the report now (HTML body, XLSX and findings CSV attached)."""
    from licensewatch.intelligence.reports import send_report

    with intelligence_engine() as engine:
        send_report(engine, to, tenant, days=days)
    stdout().print(f"Report sent to {escape(to)}.")


@report_app.command("schedule")
def schedule(
    frequency: Annotated[str, typer.Argument(help="weekly or monthly.")],
    to: Annotated[str, typer.Option("--to", help="An e-mail destination.")],
    tenant: TenantOpt = None,
) -> None:
    """E-mail the report every Monday or every 1st of the month (the daemon sends it)."""
    from licensewatch.intelligence.reports import add_schedule

    with intelligence_engine() as engine:
        schedule_id = add_schedule(engine, frequency, to, tenant=tenant)
    stdout().print(f"Added report schedule {schedule_id}.")


@report_app.command("schedules")
def schedules() -> None:
    """List the report schedules."""
    from licensewatch.intelligence.reports import list_schedules

    with intelligence_engine() as engine:
        print_json(list_schedules(engine))


@report_app.command("unschedule")
def unschedule(schedule_id: Annotated[int, typer.Argument()]) -> None:
    """Remove a report schedule."""
    from licensewatch.intelligence.reports import remove_schedule

    with intelligence_engine() as engine:
        remove_schedule(engine, schedule_id)
    stdout().print("Removed.")
