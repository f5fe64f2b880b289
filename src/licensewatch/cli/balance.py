"""Top-level `licensewatch balance`: the licence balance per SKU as a table, JSON or CSV."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from licensewatch.cli.output import OutputFormat, expected_errors, print_csv, print_json, stdout
from licensewatch.cli.tables import Column, Line, WideOpt, print_table
from licensewatch.domain.balance import BalanceRow

# Priority 0 is always shown; at 80 columns the highest numbers go first (SKU, groups, ...).
_COLUMNS = (
    Column("product", fold=True),
    Column("SKU", priority=8),
    Column("enabled", numeric=True),
    Column("warning", priority=3, numeric=True),
    Column("suspended", priority=5, numeric=True),
    Column("consumed", numeric=True),
    Column("available", numeric=True),
    Column("direct", priority=6, numeric=True),
    Column("via groups", priority=6, numeric=True),
    Column("used", priority=2, numeric=True),
    Column("renewal", priority=4),
)
_SUMMED = (
    "enabled", "warning", "suspended", "consumed", "available",
    "assigned_directly", "assigned_via_groups",
)  # fmt: skip


def _cells(row: BalanceRow) -> list[str]:
    numbers = [getattr(row, attribute) for attribute in _SUMMED]
    used = f"{row.utilisation:.0%}" if row.utilisation is not None else "-"
    renewal = f"{row.next_renewal:%Y-%m-%d}" if row.next_renewal else "-"
    return [row.name, row.sku_part_number, *(f"{n:,}" for n in numbers), used, renewal]


def print_balance_table(rows: list[BalanceRow], *, wide: bool = False) -> None:
    """Per-SKU balance with over-assigned rows in red and a totals line; fits the terminal."""
    several = len({row.tenant for row in rows}) > 1
    tenant = [Column("tenant")] if several else []
    lines = [
        Line([row.tenant] * several + _cells(row), style="red" if row.over_assigned else None)
        for row in rows
    ]
    sums = [f"{sum(getattr(row, a) for row in rows):,}" for a in _SUMMED]
    skus = f"{len(rows)} SKU" + "s" * (len(rows) != 1)
    label = ["total", skus] if several else [f"total ({skus})"]
    lines.append(Line([*label, "", *sums, "", ""], style="bold"))
    print_table("Licence balance", [*tenant, *_COLUMNS], lines, wide=wide)
    over = [row for row in rows if row.over_assigned]
    if over:
        names = ", ".join(f"{row.name} ({-row.available:,})" for row in over)
        stdout().print(f"[red]Over-assigned:[/] {escape(names)}")


def _balance_keys() -> list[str]:
    empty = BalanceRow("", "", "", 0, 0, 0, 0, 0, 0, 0, None, False)
    return list(empty.to_dict())


def balance(
    tenant: Annotated[str | None, typer.Option("--tenant", help="Only this tenant.")] = None,
    output: Annotated[
        OutputFormat, typer.Option("--format", help="table, json or csv.")
    ] = OutputFormat.TABLE,
    wide: WideOpt = False,
) -> None:
    """Licence balance per SKU: bought, in grace, suspended, consumed, available."""
    from licensewatch.cli.database import database
    from licensewatch.intelligence.catalog import with_names
    from licensewatch.services.tenant_lookup import tenant_by_name
    from licensewatch.storage.database import session_scope
    from licensewatch.storage.queries import balance_rows

    with expected_errors(), database() as engine, session_scope(engine, write=False) as session:
        if tenant is not None:
            tenant = tenant_by_name(session, tenant).name
        rows = with_names(session, balance_rows(session, tenant_name=tenant))
    if output == OutputFormat.JSON:
        print_json([row.to_dict() for row in rows])
    elif output == OutputFormat.CSV:
        print_csv([row.to_dict() for row in rows], _balance_keys())
    elif not rows:
        stdout().print("No licence data yet: run `licensewatch sync NAME` first.")
    else:
        print_balance_table(rows, wide=wide)
