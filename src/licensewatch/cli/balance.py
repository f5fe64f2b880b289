"""Top-level `licensewatch balance`: the licence balance per SKU as a table, JSON or CSV."""

from __future__ import annotations

from typing import Annotated

import typer

from licensewatch.cli.output import OutputFormat, expected_errors, print_csv, print_json, stdout
from licensewatch.cli.tables import Column, Line, WideOpt, print_table
from licensewatch.domain.balance import BALANCE_COLUMNS, BalanceRow, totals
from licensewatch.domain.sections import Section

# Priority 0 is always shown; at 80 columns the highest numbers go first (SKU, groups, ...).
_PAID = (
    Column("product", fold=True),
    Column("SKU", priority=8),
    Column("purchased", numeric=True),
    Column("grace", priority=3, numeric=True),
    Column("trial", priority=5, numeric=True),
    Column("lapsed", priority=5, numeric=True),
    Column("assigned", numeric=True),
    Column("available", numeric=True),
    Column("direct", priority=7, numeric=True),
    Column("via groups", priority=7, numeric=True),
    Column("used", priority=2, numeric=True),
    Column("renewal", priority=4),
)
_OTHERS = (
    Column("product", fold=True),
    Column("SKU", priority=2),
    Column("kind", priority=1),
    Column("units", numeric=True),
    Column("assigned", numeric=True),
)


def _numbers(row: BalanceRow) -> list[int]:
    return [
        row.purchased,
        row.grace,
        row.trial,
        row.suspended + row.locked_out,
        row.consumed,
        row.available,
        row.assigned_directly,
        row.assigned_via_groups,
    ]


def _paid_line(row: BalanceRow, tenant: list[str]) -> Line:
    used = f"{row.utilisation:.0%}" if row.utilisation is not None else "-"
    renewal = f"{row.next_renewal:%Y-%m-%d}" if row.next_renewal else "-"
    renewal += " (grace)" if row.renewal_in_grace else ""
    numbers = [f"{n:,}" for n in _numbers(row)]
    cells = [*tenant, row.name, row.sku_part_number, *numbers, used, renewal]
    return Line(cells, style="red" if row.over_assigned or row.lapsed else None)


def _who(row: BalanceRow, several: bool) -> str:
    """The product, with its tenant when the table shows several."""
    return f"{row.tenant}: {row.name}" if several else row.name


def _other_line(row: BalanceRow, tenant: list[str]) -> Line:
    kind = "free" if row.section == Section.FREE else "tenant-wide"
    units = [f"{row.purchased + row.trial:,}", f"{row.consumed:,}"]
    return Line([*tenant, row.name, row.sku_part_number, kind, *units])


def print_balance_table(rows: list[BalanceRow], *, wide: bool = False) -> None:
    """Paid products with a totals line (over-assigned and lapsed rows in red), then the free and
    tenant-wide products apart: they are never summed, priced or flagged. Fits the terminal."""
    from rich.markup import escape

    several = len({row.tenant for row in rows}) > 1
    tenant_column = [Column("tenant", fold=True)] if several else []
    paid = [row for row in rows if row.paid]
    lines = [_paid_line(row, [row.tenant] * several) for row in paid]
    sums = totals(rows)
    footer = [sums.purchased, sums.grace, sums.trial]
    footer += [sum(r.suspended + r.locked_out for r in paid), sums.consumed, sums.available]
    footer += [sum(r.assigned_directly for r in paid), sum(r.assigned_via_groups for r in paid)]
    skus = f"{len(paid)} SKU" + "s" * (len(paid) != 1)
    label = ["total", skus] if several else [f"total ({skus})"]
    lines.append(Line([*label, "", *(f"{n:,}" for n in footer), "", ""], style="bold"))
    title = "Licence balance (paid products)"
    print_table(title, [*tenant_column, *_PAID], lines, wide=wide)
    over = [row for row in paid if row.over_assigned]
    if over:
        names = ", ".join(f"{_who(row, several)} ({row.over_assigned_units:,})" for row in over)
        stdout().print(f"[red]Over-assigned:[/] {escape(names)} (buy seats or remove licences)")
    lapsed = [row for row in paid if row.lapsed]
    if lapsed:
        names = ", ".join(
            f"{_who(row, several)} ({row.lapsed_holders:,} holders)" for row in lapsed
        )
        stdout().print(
            f"[red]Lapsed with holders:[/] {escape(names)} (renew, or move them before the date)"
        )
    others = [row for row in rows if not row.paid]
    if others:
        extra = [_other_line(row, [row.tenant] * several) for row in others]
        title = "Free and tenant-wide products (not counted in the totals)"
        print_table(title, [*tenant_column, *_OTHERS], extra, wide=wide)


def balance(
    tenant: Annotated[str | None, typer.Option("--tenant", help="Only this tenant.")] = None,
    output: Annotated[
        OutputFormat, typer.Option("--format", help="table, json or csv.")
    ] = OutputFormat.TABLE,
    wide: WideOpt = False,
) -> None:
    """Licence balance per SKU: purchased (grace beside), trial, lapsed, assigned, available."""
    # Plain SQL: on SQLite, no SQLAlchemy to import (issue 12; cli/database.py).
    from licensewatch.cli.database import read_snapshot
    from licensewatch.intelligence.names import with_names
    from licensewatch.services.tenant_lookup import known_tenant_name
    from licensewatch.storage.balance_reads import balance_rows

    with expected_errors(), read_snapshot() as bind:
        if tenant is not None:
            tenant = known_tenant_name(bind, tenant)
        rows = with_names(bind, balance_rows(bind, tenant_name=tenant))
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
        print_balance_table(rows, wide=wide)
