"""`licensewatch prices ...`: set, list, remove and import product prices."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from sqlalchemy import Engine

from licensewatch.cli.catalog import FormatOpt, ProductArg, intelligence_engine
from licensewatch.cli.output import OutputFormat, fail, print_csv, print_json, stdout
from licensewatch.cli.tables import Column, Line, WideOpt, print_table

prices_app = typer.Typer(no_args_is_help=True, help="Product prices: set, list, remove, import.")
_COLUMNS = (
    Column("product", fold=True),
    Column("part number", priority=2),
    Column("SKU id", priority=3),
    Column("amount", numeric=True),
    Column("currency"),
    Column("term", priority=1),
)


def _shown(engine: Engine, sku_id: str, part_number: str | None) -> str:
    """The product's friendly name, as the dashboard shows it."""
    from licensewatch.intelligence.catalog import display_name
    from licensewatch.storage.database import session_scope

    with session_scope(engine, write=False) as session:
        return display_name(session, sku_id, part_number or sku_id)


@prices_app.command("set")
def set_(
    product: ProductArg,
    amount: Annotated[str, typer.Argument(help="Price of one licence per term, e.g. 32.00.")],
    currency: Annotated[str, typer.Option("--currency", help="ISO code, e.g. EUR.")] = "EUR",
    term: Annotated[str, typer.Option("--term", help="monthly or annual.")] = "monthly",
) -> None:
    """Set what one licence of a product costs per month or per year."""
    from licensewatch.intelligence.prices import set_price

    with intelligence_engine(changes_inputs=True) as engine:
        price = set_price(engine, product, amount, currency, term)
        name = _shown(engine, price.sku_id, price.part_number)
    stdout().print(
        f"{escape(name)}: {price.amount} {price.currency} "
        f"{price.term.value} ({price.monthly:.2f} {price.currency} per month)"
    )


@prices_app.command("list")
def list_(output: FormatOpt = OutputFormat.TABLE, wide: WideOpt = False) -> None:
    """Every price."""
    from licensewatch.intelligence.catalog import product_names
    from licensewatch.intelligence.prices import load_prices
    from licensewatch.storage.database import session_scope

    with intelligence_engine() as engine, session_scope(engine, write=False) as session:
        names = product_names(session)
        rows = [
            {"name": names.display_name(p.sku_id, p.part_number or p.sku_id)} | p.to_dict()
            for p in load_prices(session).values()
        ]
    rows.sort(key=lambda row: str(row["name"]).casefold())
    columns = ["name", "part_number", "sku_id", "amount", "currency", "term"]
    if output == OutputFormat.JSON:
        print_json(rows)
    elif output == OutputFormat.CSV:
        print_csv(rows, columns)
    elif not rows:
        stdout().print('No prices yet: licensewatch prices set "Microsoft 365 E3" 32.00')
    else:
        lines = [Line([str(row[c] or "") for c in columns]) for row in rows]
        print_table("Prices", _COLUMNS, lines, wide=wide)


@prices_app.command("remove")
def remove(product: ProductArg) -> None:
    """Remove a product's price (it then shows as 'no price')."""
    from licensewatch.intelligence.prices import remove_price

    with intelligence_engine(changes_inputs=True) as engine:
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
    with intelligence_engine(changes_inputs=True) as engine:
        prices = import_prices(engine, data)
    stdout().print(f"Imported {len(prices)} prices.")
