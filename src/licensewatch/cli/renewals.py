"""`licensewatch renewals plan`: seats to renew per subscription and the money it saves."""

from __future__ import annotations

import io
import json
import sys
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from licensewatch.cli.output import fail, print_json, stdout
from licensewatch.cli.tables import Column, Line, WideOpt, print_table

if TYPE_CHECKING:
    from licensewatch.intelligence.renewals import RenewalPlan

renewals_app = typer.Typer(help="Renewals: how many seats to renew, and what it saves.")


class PlanFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"
    XLSX = "xlsx"


_COLUMNS = (
    Column("renews"),
    Column("product", fold=True),
    Column("tenant", priority=6, fold=True),
    Column("units", numeric=True),
    Column("assigned", numeric=True),
    Column("reclaimable", priority=2, numeric=True),
    Column("growth", priority=3, numeric=True),
    Column("buffer", priority=4, numeric=True),
    Column("renew at", numeric=True),
    Column("change", numeric=True),
    Column("saving/year", numeric=True),
)


def _money(amount: Decimal | None, currency: str | None) -> str:
    return f"{amount:,.2f} {currency}" if amount is not None else "no price"


def _line(plan: RenewalPlan) -> Line:
    when = f"{plan.renews_at:%Y-%m-%d}" + (" (grace)" if plan.event == "grace ends" else "")
    numbers = [plan.subscription_units, plan.assigned, plan.reclaimable, plan.growth, plan.buffer]
    cells = [when, plan.product, plan.tenant, *(f"{n:,}" for n in numbers)]
    cells += [f"{plan.recommended:,}", f"{plan.change:+,}" if plan.change else "0"]
    cells.append(_money(plan.yearly_saving, plan.currency))
    return Line(cells, style="red" if plan.change > 0 else None)


def _totals(plans: list[RenewalPlan]) -> str:
    sums: dict[str, Decimal] = {}
    for plan in plans:
        if plan.yearly_saving is not None and plan.currency:
            sums[plan.currency] = sums.get(plan.currency, Decimal(0)) + plan.yearly_saving
    text = " + ".join(f"{amount:,.2f} {currency}" for currency, amount in sorted(sums.items()))
    unpriced = sorted({p.product for p in plans if p.yearly_saving is None})
    if unpriced:
        text += (" + " if text else "") + "no price for " + ", ".join(unpriced)
    return text or "-"


def _write(data: bytes | str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(data if isinstance(data, str) else data.decode())
        return
    output.write_bytes(data.encode() if isinstance(data, str) else data)
    stdout().print(f"Wrote {escape(str(output))}.")


@renewals_app.command("plan")
def plan(
    tenant: Annotated[str | None, typer.Option("--tenant", help="Only this tenant.")] = None,
    output_format: Annotated[
        PlanFormat, typer.Option("--format", help="table, json, csv or xlsx.")
    ] = PlanFormat.TABLE,
    output: Annotated[
        Path | None, typer.Option("--output", help="File to write (required for xlsx).")
    ] = None,
    buffer: Annotated[
        int | None,
        typer.Option(
            "--buffer",
            min=0,
            max=100,
            help="Safety buffer in % (default: the renewal_buffer_percent setting).",
        ),
    ] = None,
    wide: WideOpt = False,
) -> None:
    """Per renewing subscription: bought, assigned, reclaimable, growth, seats to renew, saving."""
    from licensewatch.cli.catalog import intelligence_engine
    from licensewatch.intelligence.renewals import PLAN_COLUMNS, renewal_plans
    from licensewatch.tabular import write_csv, xlsx_bytes

    if output_format == PlanFormat.XLSX and output is None:
        fail("--format xlsx needs --output FILE (a workbook is not text)")
    with intelligence_engine() as engine:
        plans = renewal_plans(engine, tenant, buffer_percent=buffer)
    if output_format == PlanFormat.JSON:
        data = [p.model_dump(mode="json") for p in plans]
        if output is None:
            print_json(data)
        else:
            _write(json.dumps(data, indent=2, ensure_ascii=False) + "\n", output)
    elif output_format == PlanFormat.CSV:
        text = io.StringIO()
        write_csv(text, PLAN_COLUMNS, (p.cells() for p in plans))
        _write(text.getvalue(), output)
    elif output_format == PlanFormat.XLSX:
        _write(xlsx_bytes("renewal plan", PLAN_COLUMNS, (p.cells() for p in plans)), output)
    elif not plans:
        stdout().print("No paid subscription with a renewal date: nothing to plan.")
    else:
        print_table("Renewal plan", _COLUMNS, [_line(p) for p in plans], wide=wide)
        stdout().print(f"Saving a year if renewed as planned: {escape(_totals(plans))}")
