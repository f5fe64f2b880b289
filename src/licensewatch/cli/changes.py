"""Top-level `licensewatch changes`: the licence change history, filtered, as table, JSON or CSV."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from licensewatch.cli.output import (
    OutputFormat,
    expected_errors,
    print_csv,
    print_json,
    stdout,
)
from licensewatch.cli.tables import Column, Line, WideOpt, print_table
from licensewatch.domain.schedule import parse_duration
from licensewatch.storage.models import ChangeKind, utcnow

_COLUMNS = (
    "occurred_at", "tenant", "kind", "user_principal_name", "product", "sku_part_number", "sku_id",
    "assigned_by_group", "group_name", "detail", "run_id",
)  # fmt: skip


def describe(row: dict[str, Any]) -> str:
    """The change's specifics in words: via which group and in which state, or units from → to."""
    detail = row.get("detail") or {}
    if row["kind"] == ChangeKind.UNITS_CHANGED:
        return f"{detail.get('units', 'units')}: {detail.get('from')} → {detail.get('to')}"
    if row["kind"] == ChangeKind.USER_SOFT_DELETED:
        return "in deleted items (restorable for 30 days)"
    if row.get("sku_id"):
        group = row.get("group_name") or row.get("assigned_by_group")
        text = f"via group {group}" if group else "direct"
        was, now, error = detail.get("from"), detail.get("to"), detail.get("error")
        if {was, now} - {None, "Active"} or error:  # say the state when it is not plain Active
            text += f", {was or 'none'} → {now or 'none'}" + (f" ({error})" if error else "")
        return text
    return ""


def changes(
    tenant: Annotated[str | None, typer.Option("--tenant", help="Only this tenant.")] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Only this recent, e.g. 12h, 7d, 4w.")
    ] = None,
    user: Annotated[str | None, typer.Option("--user", help="Only this user (UPN).")] = None,
    kind: Annotated[ChangeKind | None, typer.Option("--kind", help="Only this kind.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many.")] = 500,
    output: Annotated[
        OutputFormat, typer.Option("--format", help="table, json or csv.")
    ] = OutputFormat.TABLE,
    wide: WideOpt = False,
) -> None:
    """Licence changes seen by syncs: licences gained or lost, accounts, users, units bought."""
    from licensewatch.cli.database import database
    from licensewatch.intelligence.catalog import product_names
    from licensewatch.services.tenant_lookup import tenant_by_name
    from licensewatch.storage.database import session_scope
    from licensewatch.storage.queries import licence_changes

    with expected_errors():
        after = utcnow() - parse_duration(since) if since is not None else None
        with database() as engine, session_scope(engine, write=False) as session:
            if tenant is not None:
                tenant = tenant_by_name(session, tenant).name
            names = product_names(session)
            found = licence_changes(
                session,
                tenant_name=tenant,
                since=after,
                user_upn=user,
                kind=kind.value if kind is not None else None,
                limit=limit,
            )
    rows = [row.to_dict() for row in found]
    for row in rows:
        sku_id, part = row.get("sku_id"), row.get("sku_part_number")
        row["product"] = names.display_name(sku_id, part or sku_id) if sku_id else None
    if output == OutputFormat.JSON:
        print_json(rows)
    elif output == OutputFormat.CSV:
        print_csv([row | {"detail": describe(row)} for row in rows], _COLUMNS)
    elif not rows:
        stdout().print("No licence changes recorded (the first sync of a tenant is the baseline).")
    else:
        print_changes(rows, wide=wide)


def print_changes(rows: list[dict[str, Any]], *, wide: bool = False) -> None:
    several = len({row["tenant"] for row in rows}) > 1
    tenant = [Column("tenant", fold=True)] * several
    columns = [Column("when"), *tenant, Column("change", priority=2)]
    columns += [Column("user", fold=True), Column("product", fold=True)]
    columns += [Column("detail", priority=1, fold=True)]
    lines = []
    for row in rows:
        cells = [row["occurred_at"][:16].replace("T", " "), *([row["tenant"]] * several)]
        cells += [row["kind"], row["user_principal_name"] or "-"]
        cells += [row["product"] or "-", describe(row)]
        lines.append(Line([str(cell) for cell in cells]))
    print_table(f"Licence changes ({len(rows)})", columns, lines, wide=wide)
