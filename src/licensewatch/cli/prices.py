"""`licensewatch prices ...`: set, list, remove and import product prices."""

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
