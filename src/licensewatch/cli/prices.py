"""`licensewatch prices ...` (set, list, remove, import) and `licensewatch costs`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from licensewatch.cli.catalog import FormatOpt, intelligence_engine
from licensewatch.cli.output import OutputFormat, fail, print_csv, print_json, stdout, table

prices_app = typer.Typer(no_args_is_help=True, help="Product prices: set, list, remove, import.")
ProductArg = Annotated[str, typer.Argument(help="SKU id or part number, e.g. SPE_E3.")]


@prices_app.command("set")
def set_(
    product: ProductArg,
    amount: Annotated[str, typer.Argument(help="Price of one licence per term, e.g. 32.00.")],
    currency: Annotated[str, typer.Option("--currency", help="ISO code, e.g. EUR.")] = "EUR",
    term: Annotated[str, typer.Option("--term", help="monthly or annual.")] = "monthly",
) -> None:
    """Set what one licence of a product costs per month or per year."""
    from licensewatch.intelligence.prices import set_price

    with intelligence_engine() as engine:
        price = set_price(engine, product, amount, currency, term)
    stdout().print(
        f"{escape(price.part_number or price.sku_id)}: {price.amount} {price.currency} "
        f"{price.term.value} ({price.monthly:.2f} {price.currency} per month)"
    )


@prices_app.command("list")
def list_(output: FormatOpt = OutputFormat.TABLE) -> None:
    """Every price."""
    from licensewatch.intelligence.prices import load_prices
    from licensewatch.storage.database import session_scope

    with intelligence_engine() as engine, session_scope(engine, write=False) as session:
        prices = sorted(load_prices(session).values(), key=lambda p: p.part_number or p.sku_id)
    rows = [p.to_dict() for p in prices]
    columns = ["part_number", "sku_id", "amount", "currency", "term"]
    if output == OutputFormat.JSON:
        print_json(rows)
    elif output == OutputFormat.CSV:
        print_csv(rows, columns)
    else:
        result = table("Prices", columns, numeric=("amount",))
        for row in rows:
            result.add_row(*(str(row[c] or "") for c in columns))
        stdout().print(result if rows else "No prices yet: licensewatch prices set PART 32.00")


@prices_app.command("remove")
def remove(product: ProductArg) -> None:
    """Remove a product's price (it then shows as 'no price')."""
    from licensewatch.intelligence.prices import remove_price

    with intelligence_engine() as engine:
        removed = remove_price(engine, product)
    stdout().print("Price removed." if removed else "That product had no price.")


@prices_app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="CSV with columns product,price,currency,term.")],
) -> None:
    """Import prices from a CSV (all rows or none)."""
    from licensewatch.intelligence.prices import import_prices

    try:
        data = file.read_bytes()
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror or exc}")
    with intelligence_engine() as engine:
        prices = import_prices(engine, data)
    stdout().print(f"Imported {len(prices)} prices.")


def costs(
    tenant: Annotated[str | None, typer.Option("--tenant", help="Only this tenant.")] = None,
    output: FormatOpt = OutputFormat.TABLE,
) -> None:
    """Licence costs per month and year: purchased, assigned, unassigned, by department etc."""
    from licensewatch.intelligence.costs import all_costs

    with intelligence_engine() as engine:
        results = all_costs(engine, tenant)
    if output == OutputFormat.JSON:
        print_json([c.to_dict() for c in results])
        return
    if output == OutputFormat.CSV:
        columns = ["tenant", "name", "purchased", "assigned", "unassigned", "price"]
        columns += ["purchased_monthly", "unassigned_monthly"]
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
        print_csv(rows, columns)
        return
    console = stdout()
    for c in results:
        result = table(f"Costs of {c.tenant}", ["", "per month", "per year"])
        for label, cost in (
            ("purchased", c.purchased),
            ("assigned", c.assigned),
            ("unassigned", c.unassigned),
        ):
            result.add_row(label, cost.text(), cost.text(yearly=True))
        console.print(result)
        for attribute, lines in c.breakdowns.items():
            breakdown = table(f"By {attribute}", [attribute, "licences", "per month"])
            for value, units, cost in lines:
                breakdown.add_row(value, str(units), cost.text())
            console.print(breakdown)
