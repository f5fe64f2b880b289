"""`licensewatch plan ...`: create, review, approve, apply and undo licence change plans."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from licensewatch.cli.output import (
    ExitCode,
    OutputFormat,
    expected_errors,
    fail,
    print_json,
    stdout,
    warn,
)
from licensewatch.cli.tables import Column, Line, WideOpt, print_table

if TYPE_CHECKING:
    from licensewatch.services.plans import PlanView

plan_app = typer.Typer(
    no_args_is_help=True,
    help="Licence change plans: create, review, approve, apply, undo (writes to Microsoft 365).",
)
PlanArg = Annotated[int, typer.Argument(help="The plan's id (from `plan create` or `plan list`).")]
FormatOpt = Annotated[OutputFormat, typer.Option("--format", help="table or json.")]


class Action(StrEnum):
    REMOVE = "remove"
    DOWNGRADE = "downgrade"
    REMOVE_DUPLICATE = "remove_duplicate"
    REMOVE_ADDON = "remove_addon"


_LINE_COLUMNS = (
    Column("#"),
    Column("user", fold=True),
    Column("change", fold=True),
    Column("saving / month", numeric=True, priority=1),
    Column("state"),
    Column("request-id / error", priority=2, fold=True),
)
_LIST_COLUMNS = (
    Column("id"),
    Column("tenant"),
    Column("status"),
    Column("lines", numeric=True),
    Column("saving / month", numeric=True, priority=1),
    Column("created by", priority=2, fold=True),
    Column("approved by", priority=3, fold=True),
    Column("states", priority=1, fold=True),
)


@contextmanager
def _plans_errors() -> Iterator[None]:
    from licensewatch.services.plans import PlanNotFound

    with expected_errors():
        try:
            yield
        except PlanNotFound as error:
            fail(str(error.args[0]), ExitCode.USAGE)


def _names(plan: PlanView) -> dict[str, str]:
    from licensewatch.cli.database import database
    from licensewatch.intelligence.catalog import product_names
    from licensewatch.storage.database import session_scope
    from licensewatch.storage.models import Sku

    with database() as engine, session_scope(engine, write=False) as session:
        from sqlalchemy import select

        parts = dict(session.execute(select(Sku.sku_id, Sku.sku_part_number)).all())
        names = product_names(session)
        skus = {s for line in plan.lines for s in (line.sku_id, line.target_sku_id) if s}
        return {sku: names.display_name(sku, parts.get(sku, sku)) for sku in skus}


def _change(line_action: str, sku: str, target: str | None) -> str:
    if line_action == "swap":
        return f"swap {sku} → {target}"
    if line_action == "add":
        return f"assign {sku}"
    if line_action == "remove_duplicate":
        return f"remove direct duplicate of {sku}"
    return f"remove {sku}"


def _print_plan(plan: PlanView) -> None:
    names = _names(plan)
    console = stdout()
    approved = f", approved by {plan.approved_by}" if plan.approved_by else ""
    console.print(
        f"[bold]Plan {plan.id}[/] · tenant {escape(plan.tenant)} · {plan.status} · "
        f"created by {escape(plan.created_by)}{escape(approved)}"
    )
    if plan.reverses_plan_id:
        console.print(f"Undoes plan {plan.reverses_plan_id}.")
    lines = []
    for line in plan.lines:
        sku = names.get(line.sku_id, line.sku_id)
        target = names.get(line.target_sku_id, line.target_sku_id) if line.target_sku_id else None
        money = f"{line.monthly_saving} {line.currency or ''}".strip()
        saving = money if line.monthly_saving else "-"
        note = line.error or line.request_id or ""
        style = "red" if line.state in ("failed", "drifted") else None
        cells = [
            str(line.position),
            line.user_principal_name or line.user_id,
            _change(line.action, sku, target),
            saving,
            line.state,
            note,
        ]
        lines.append(Line(cells, style=style))
    print_table(None, _LINE_COLUMNS, lines)
    currency = f" {plan.currency}" if plan.currency else ""
    console.print(
        f"Saving: {plan.monthly_saving}{currency} a month, {plan.yearly_saving}{currency} a year "
        "(lines without a price count 0)."
    )
    if not plan.writes_allowed:
        warn(
            f"licence writes are off for tenant {plan.tenant}: `licensewatch tenant update "
            f"{plan.tenant} --allow-writes` before applying"
        )


@plan_app.command("create")
def create(
    tenant: Annotated[str, typer.Option("--tenant", help="The tenant's local name.")],
    from_recommendations: Annotated[
        bool,
        typer.Option("--from-recommendations", help="One line per current recommendation."),
    ] = False,
    action: Annotated[
        list[Action] | None,
        typer.Option("--action", help="Only these recommendation actions (repeatable)."),
    ] = None,
    remove: Annotated[
        str | None, typer.Option("--remove", help="SKU to remove: id, part number or name.")
    ] = None,
    to: Annotated[
        str | None, typer.Option("--to", help="Swap to this SKU instead of removing.")
    ] = None,
    users: Annotated[
        Path | None, typer.Option("--users", help="File: a userPrincipalName or id per line.")
    ] = None,
) -> None:
    """Create a draft plan from recommendations or by hand; prints the plan's id."""
    from licensewatch.cli.actor import cli_actor
    from licensewatch.cli.database import database
    from licensewatch.services.plans import create_plan, show_plan

    if from_recommendations == (remove is not None):
        fail("give either --from-recommendations or --remove SKU --users FILE")
    if remove is not None and users is None:
        fail("--remove needs --users FILE (a userPrincipalName or object id per line)")
    if action and not from_recommendations:
        fail("--action goes with --from-recommendations")
    if to and remove is None:
        fail("--to goes with --remove")
    with _plans_errors(), database() as engine:
        if from_recommendations:
            from licensewatch.intelligence.plan_recommendations import recommended_lines

            lines = recommended_lines(engine, tenant, [a.value for a in action or []])
            source = "recommendations"
        else:
            from licensewatch.intelligence.plan_builder import manual_lines, read_user_keys

            if users is None or remove is None:  # checked above; for the type checker
                raise typer.Exit(ExitCode.USAGE)
            try:
                text = users.read_text(encoding="utf-8-sig")
            except OSError as error:
                fail(f"cannot read --users {users}: {error.strerror}")
            lines = manual_lines(engine, tenant, remove, read_user_keys(text), to)
            source = "manual"
        plan_id = create_plan(engine, tenant, lines, cli_actor(), source)
        allowed = show_plan(engine, plan_id).writes_allowed
    typer.echo(plan_id)  # stdout holds the id only: scripts read it
    if not allowed:
        warn(
            f"licence writes are off for tenant {tenant}: the plan can be reviewed and approved; "
            f"`licensewatch tenant update {tenant} --allow-writes` before `plan apply {plan_id}`"
        )


@plan_app.command("show")
def show(plan_id: PlanArg, output: FormatOpt = OutputFormat.TABLE) -> None:
    """A plan with its lines, each line's saving, state, request-id or error."""
    from licensewatch.cli.database import database
    from licensewatch.services.plans import show_plan

    with _plans_errors(), database() as engine:
        plan = show_plan(engine, plan_id)
    if output == OutputFormat.JSON:
        print_json(plan.to_dict())
    elif output == OutputFormat.CSV:
        fail("plan show supports --format table or json")
    else:
        _print_plan(plan)


@plan_app.command("list")
def list_(output: FormatOpt = OutputFormat.TABLE, wide: WideOpt = False) -> None:
    """Every plan, newest first, with its status and saving."""
    from licensewatch.cli.database import database
    from licensewatch.services.plans import list_plans

    with _plans_errors(), database() as engine:
        plans = list_plans(engine)
    if output == OutputFormat.JSON:
        print_json([plan.to_dict() for plan in plans])
        return
    if output == OutputFormat.CSV:
        fail("plan list supports --format table or json")
    if not plans:
        stdout().print("No plans yet: licensewatch plan create --help")
        return
    lines = [
        Line(
            [
                str(p.id),
                p.tenant,
                p.status,
                str(sum(p.counts.values())),
                f"{p.monthly_saving} {p.currency or ''}".strip(),
                p.created_by,
                p.approved_by or "-",
                ", ".join(f"{k} {v}" for k, v in sorted(p.counts.items())),
            ]
        )
        for p in plans
    ]
    print_table("Change plans", _LIST_COLUMNS, lines, wide=wide)


@plan_app.command("approve")
def approve(plan_id: PlanArg) -> None:
    """Approve a draft plan (administrators; with four-eyes, not the plan's creator)."""
    from licensewatch.cli.actor import cli_actor
    from licensewatch.cli.database import database
    from licensewatch.services.plans import approve_plan

    with _plans_errors(), database() as engine:
        plan = approve_plan(engine, plan_id, cli_actor())
    stdout().print(f"Approved plan {plan.id}. Next: licensewatch plan apply {plan.id}")


def _apply(plan_id: int) -> None:
    from licensewatch.cli.actor import cli_actor
    from licensewatch.cli.database import database
    from licensewatch.intelligence.read_models.build import publish_read_models
    from licensewatch.sync.plan_apply import apply_plan

    with _plans_errors(), database() as engine:
        report = apply_plan(engine, plan_id, cli_actor(), on_publish=publish_read_models)
    _print_plan(report.plan)
    counts = report.plan.counts
    if report.stopped:
        again = f"run `licensewatch plan apply {plan_id}` again: it resumes where it stopped"
        fail(f"stopped: {report.stopped}", ExitCode.FAILED, fix=again)
    if report.confirmed_by_sync is None:
        warn("the delta sync after applying did not run or failed: lines are not confirmed yet")
    if counts.get("failed") or counts.get("drifted"):
        raise typer.Exit(ExitCode.FAILED)


@plan_app.command("apply")
def apply(plan_id: PlanArg) -> None:
    """Apply an approved plan through Microsoft Graph; resumes an interrupted run."""
    _apply(plan_id)


@plan_app.command("undo")
def undo(plan_id: PlanArg) -> None:
    """Create and apply the reverse plan: applied lines (30 days) get their SKU back."""
    from licensewatch.cli.actor import cli_actor
    from licensewatch.cli.database import database
    from licensewatch.services.plans import undo_plan

    with _plans_errors(), database() as engine:
        undo_id = undo_plan(engine, plan_id, cli_actor())
    stdout().print(f"Created plan {undo_id} undoing plan {plan_id}; applying it.")
    _apply(undo_id)
