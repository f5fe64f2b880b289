"""`licensewatch recommendations`: per-user licence actions with reasons and the money saved."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from licensewatch.cli.catalog import FormatOpt, intelligence_engine
from licensewatch.cli.output import OutputFormat, print_csv, print_json, stdout
from licensewatch.cli.tables import Column, Line, WideOpt, print_table

if TYPE_CHECKING:
    from licensewatch.intelligence.recommendations import Recommendation, UsageState

recommendations_app = typer.Typer(
    help="Per-user licence actions (remove, downgrade, duplicate, add-on) with the saving."
)
TenantOpt = Annotated[str | None, typer.Option("--tenant", help="Only this tenant.")]
KindArg = Annotated[str, typer.Argument(help="user or group.")]
KeyArg = Annotated[
    str, typer.Argument(help="A userPrincipalName, or a licensed group's id or display name.")
]
_COLUMNS = (
    Column("user", fold=True),
    Column("action"),
    Column("licence", fold=True),  # "E5" or "E5 → E3": a downgrade's target stays visible
    Column("conf", priority=2),
    Column("per year", numeric=True, priority=1),
    Column("reason", priority=9, fold=True),
)
# Short labels so that the table with its confidence column fits 80 columns.
_ACTIONS = {
    "remove": "remove",
    "downgrade": "downgrade",
    "remove_duplicate": "duplicate",
    "remove_addon": "add-on",
}
_CONFIDENCE = {"high": "high", "medium": "med.", "low": "low"}


def _money(value: Decimal | None, currency: str | None) -> str:
    if value is None:
        return "no price"
    return f"{value:,.2f} {currency}" if currency else f"{value:,.2f}"


def _totals(found: list[Recommendation]) -> str:
    sums: dict[str, Decimal] = {}
    for r in found:
        if r.yearly_saving is not None and r.currency:
            sums[r.currency] = sums.get(r.currency, Decimal(0)) + r.yearly_saving
    return " + ".join(f"{a:,.2f} {c}" for c, a in sorted(sums.items())) or "no priced saving"


def _tenant_block(state: UsageState, found: list[Recommendation], wide: bool) -> None:
    console = stdout()
    head = f"[bold]{escape(state.tenant)}[/]: {len(found)} recommendation(s), {_totals(found)}"
    console.print(f"{head} per year", soft_wrap=True)
    mark = "" if state.per_user else "[yellow]![/] "
    console.print(f"  {mark}{escape(state.message)}", soft_wrap=True)
    if state.fix:
        console.print(f"  [bold]fix:[/] {escape(state.fix)}", soft_wrap=True)
    if not found:
        return
    lines = [
        Line(
            (
                r.user_principal_name,
                _ACTIONS.get(r.action, r.action),
                f"{r.product_name} → {r.target_product_name}"
                if r.target_product_name
                else r.product_name,
                _CONFIDENCE.get(r.confidence, r.confidence),
                _money(r.yearly_saving, r.currency),
                r.reason,
            )
        )
        for r in found
    ]
    print_table(None, _COLUMNS, lines, wide=wide)


@recommendations_app.callback(invoke_without_command=True)
def recommendations(
    ctx: typer.Context,
    tenant: TenantOpt = None,
    output: FormatOpt = OutputFormat.TABLE,
    wide: WideOpt = False,
) -> None:
    """Recommended licence actions per user, most money first, with reason and evidence."""
    if ctx.invoked_subcommand is not None:
        return
    from licensewatch.intelligence.read_models.recommendations_readers import (
        stored_recommendations,
    )
    from licensewatch.intelligence.recommendations import CSV_COLUMNS, usage_states

    with intelligence_engine() as engine:
        found = stored_recommendations(engine, tenant)
        states = usage_states(engine, tenant)
    if output == OutputFormat.JSON:
        print_json([r.to_dict() for r in found])
        return
    if output == OutputFormat.CSV:
        print_csv([r.csv_row() for r in found], CSV_COLUMNS)
        return
    if not states:
        stdout().print("No tenants yet: add one with `licensewatch tenant add`.")
        return
    for state in states:
        _tenant_block(state, [r for r in found if r.tenant == state.tenant], wide)
    if found and not wide:
        stdout().print("Reasons and evidence: --wide, --format json or --format csv.")


@recommendations_app.command("exclude")
def exclude(kind: KindArg, key: KeyArg) -> None:
    """Leave a user, or every holder of a licensed group's licences, out of recommendations."""
    from licensewatch.intelligence.exclusions import exclude_holder

    with intelligence_engine(changes_inputs=True) as engine:
        label = exclude_holder(engine, kind, key)
    stdout().print(f"{escape(kind)} {escape(label)} is excluded from recommendations.")


@recommendations_app.command("include")
def include(kind: KindArg, key: KeyArg) -> None:
    """Stop excluding a user or group."""
    from licensewatch.intelligence.exclusions import include_holder

    with intelligence_engine(changes_inputs=True) as engine:
        removed = include_holder(engine, kind, key)
    stdout().print("Exclusion removed." if removed else f"That {escape(kind)} was not excluded.")


@recommendations_app.command("exclusions")
def exclusions(output: FormatOpt = OutputFormat.TABLE) -> None:
    """List the users and groups recommendations leave alone (products: `findings exclude`)."""
    from licensewatch.intelligence.exclusions import list_holder_exclusions
    from licensewatch.storage.database import session_scope

    with intelligence_engine() as engine, session_scope(engine, write=False) as session:
        rows = list_holder_exclusions(session)
    items = [{"kind": kind, "key": key, "label": label} for kind, key, label in rows]
    if output == OutputFormat.JSON:
        print_json(items)
    elif output == OutputFormat.CSV:
        print_csv(items, ("kind", "key", "label"))
    elif not items:
        stdout().print("Nothing is excluded from recommendations.")
    else:
        columns = (Column("kind"), Column("name", fold=True), Column("key", priority=1, fold=True))
        print_table(None, columns, [Line((i["kind"], i["label"], i["key"])) for i in items])
