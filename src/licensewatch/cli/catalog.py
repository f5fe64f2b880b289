"""`licensewatch catalog ...`: import product names, name products, list unknown SKUs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.markup import escape
from sqlalchemy import Engine

from licensewatch.cli.output import (
    ExitCode,
    OutputFormat,
    expected_errors,
    fail,
    message_of,
    print_csv,
    print_json,
    stdout,
    warn,
)
from licensewatch.cli.tables import Column, Line, WideOpt, print_table

catalog_app = typer.Typer(
    no_args_is_help=True, help="Friendly product names: import, name, list unknown SKUs."
)
FormatOpt = Annotated[OutputFormat, typer.Option("--format", help="table, json or csv.")]
ProductArg = Annotated[
    str, typer.Argument(help='SKU id, part number or name, e.g. SPE_E3 or "Microsoft 365 E3".')
]
_COLUMNS = (
    Column("SKU id", priority=3),
    Column("part number", priority=2),
    Column("name", fold=True),
    Column("source", priority=1),
    Column("tenants", fold=True),
)


@contextmanager
def intelligence_engine(*, changes_inputs: bool = False) -> Iterator[Engine]:
    """The configured database with admin-actionable errors mapped to one-line messages.

    `changes_inputs`: the command changes what findings and costs are computed from (prices,
    names, exclusions, settings): their read models are rebuilt before it returns.
    """
    from licensewatch.cli.database import open_engine
    from licensewatch.intelligence.alerts.webhook import DeliveryError

    with expected_errors():
        engine = open_engine()
        try:
            yield engine
            if changes_inputs:
                from licensewatch.intelligence.read_models.build import refresh_read_models

                refresh_read_models(engine)
        except LookupError as error:
            fail(message_of(error), ExitCode.USAGE)
        except DeliveryError as error:
            fail(str(error), ExitCode.FAILED)
        finally:
            engine.dispose()


@catalog_app.command("import")
def import_(
    source: Annotated[str, typer.Argument(help="The CSV file, or its https:// URL.")],
) -> None:
    """Load Microsoft's 'Product names and service plan identifiers' CSV (all or nothing)."""
    from licensewatch.intelligence.catalog import import_catalog, read_source

    with intelligence_engine(changes_inputs=True) as engine:
        result = import_catalog(engine, read_source(source))
    for message in result.warnings[:10]:
        warn(message)
    stdout().print(f"Imported {result.products} products and {result.plans} service plans.")


@catalog_app.command("set-name")
def set_name(
    product: ProductArg,
    name: Annotated[str, typer.Argument(help="The name to show.")],
) -> None:
    """Give a product your own name (wins over Microsoft's and the built-in names)."""
    from licensewatch.intelligence.catalog import set_name as store

    with intelligence_engine(changes_inputs=True) as engine:
        sku_id, part = store(engine, product, name)
    stdout().print(f"{escape(part or sku_id)} is now shown as {escape(name)!r}.")


@catalog_app.command("clear-name")
def clear_name(product: ProductArg) -> None:
    """Remove your own name of a product."""
    from licensewatch.intelligence.catalog import clear_name as remove

    with intelligence_engine(changes_inputs=True) as engine:
        removed = remove(engine, product)
    stdout().print("Name removed." if removed else "That product had no name of yours.")


def _products(unknown: bool, output: OutputFormat, wide: bool) -> None:
    from licensewatch.intelligence.catalog import seen_products, unknown_products
    from licensewatch.storage.database import session_scope

    with intelligence_engine() as engine, session_scope(engine, write=False) as session:
        products = unknown_products(session) if unknown else seen_products(session)
    rows = [p.to_dict() | {"tenants": ", ".join(p.tenants)} for p in products]
    columns = ["sku_id", "part_number", "name", "source", "tenants"]
    if output == OutputFormat.JSON:
        print_json([p.to_dict() for p in products])
    elif output == OutputFormat.CSV:
        print_csv(rows, columns)
    elif unknown and not rows:
        stdout().print("Every product seen in your tenants has a friendly name.")
    else:
        lines = [Line([str(row[c]) for c in columns]) for row in rows]
        print_table("Unknown products" if unknown else "Products", _COLUMNS, lines, wide=wide)
        if unknown:
            stdout().print('Name them: licensewatch catalog set-name PART "Name"')


@catalog_app.command("list")
def list_(output: FormatOpt = OutputFormat.TABLE, wide: WideOpt = False) -> None:
    """Products seen in your tenants with their names and where each name comes from."""
    _products(False, output, wide)


@catalog_app.command("unknown")
def unknown(output: FormatOpt = OutputFormat.TABLE, wide: WideOpt = False) -> None:
    """Products seen in your tenants that have no friendly name yet."""
    _products(True, output, wide)
