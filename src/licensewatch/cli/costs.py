"""Top-level `licensewatch costs`: licence costs per tenant, per product and per attribute."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from licensewatch.cli.output import OutputFormat, print_csv, print_json, stdout
from licensewatch.cli.tables import Column, Line, WideOpt, print_table

if TYPE_CHECKING:
    from licensewatch.intelligence.costs import ProductCost, TenantCosts
    from licensewatch.intelligence.money import Cost

_CSV_COLUMNS = ["tenant", "name", "purchased", "assigned", "unassigned", "price"]
_CSV_COLUMNS += ["purchased_monthly", "unassigned_monthly"]
_SUMMARY = (Column(""), Column("per month", numeric=True), Column("per year", numeric=True))
_PRODUCTS = (
    Column("product", fold=True),
    Column("purchased", numeric=True),
    Column("assigned", priority=2, numeric=True),
    Column("unassigned", numeric=True),
    Column("price", priority=3),
    Column("per month", numeric=True),
    Column("unassigned/month", priority=1, numeric=True),
)


def money(cost: Cost, *, yearly: bool = False) -> str:
    """`1,234.50 EUR`; `*` marks a sum that leaves out products without a price."""
    values = cost.yearly() if yearly else cost.monthly()
    text = " + ".join(f"{amount:,.2f} {currency}" for currency, amount in values.items())
    if not text:
        return "no price" if cost.unpriced else "-"
    return text + (" *" if cost.unpriced else "")


def _product_line(p: ProductCost) -> Line:
    numbers = (f"{n:,}" for n in (p.purchased, p.assigned, p.unassigned))
    price = p.price or "no price"
    return Line([p.name, *numbers, price, money(p.purchased_cost), money(p.unassigned_cost)])


def print_costs(costs: TenantCosts, *, wide: bool) -> None:
    """The tenant's totals, its products, and each breakdown; unpriced products named once."""
    summary = [
        Line([label, money(cost), money(cost, yearly=True)])
        for label, cost in (
            ("purchased", costs.purchased),
            ("assigned", costs.assigned),
            ("unassigned", costs.unassigned),
        )
    ]
    print_table(f"Costs of {costs.tenant}", _SUMMARY, summary, wide=wide)
    products = [_product_line(p) for p in costs.products]
    print_table("Products", _PRODUCTS, products, wide=wide)
    for attribute, lines in costs.breakdowns.items():
        columns = [Column(attribute, fold=True), Column("licences", numeric=True)]
        columns.append(Column("per month", numeric=True))
        rows = [Line([value, f"{units:,}", money(cost)]) for value, units, cost in lines]
        print_table(f"By {attribute}", columns, rows, wide=wide)
    unpriced = sorted(costs.purchased.unpriced)
    if unpriced:
        missing = escape(", ".join(unpriced))
        stdout().print(
            f"* without the {len(unpriced)} product(s) that have no price: {missing}"
            " (licensewatch prices set PRODUCT AMOUNT)"
        )


def costs(
    tenant: Annotated[str | None, typer.Option("--tenant", help="Only this tenant.")] = None,
    output: Annotated[
        OutputFormat, typer.Option("--format", help="table, json or csv.")
    ] = OutputFormat.TABLE,
    wide: WideOpt = False,
) -> None:
    """Licence costs per month and year: purchased, assigned, unassigned, by department etc."""
    from licensewatch.cli.catalog import intelligence_engine
    from licensewatch.intelligence.read_models.readers import stored_costs

    with intelligence_engine() as engine:
        results = stored_costs(engine, tenant)
    if output == OutputFormat.JSON:
        print_json([c.to_dict() for c in results])
    elif output == OutputFormat.CSV:
        rows = [
            p.to_dict()
            | {
                "tenant": c.tenant,
                "purchased_monthly": p.purchased_cost.text(),
                "unassigned_monthly": p.unassigned_cost.text(),
            }
            for c in results
            for p in c.products
        ]
        print_csv(rows, _CSV_COLUMNS)
    else:
        for result in results:
            print_costs(result, wide=wide)
