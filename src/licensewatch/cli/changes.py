"""Top-level `licensewatch changes`: the licence change history, filtered, as table, JSON or CSV."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

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

if TYPE_CHECKING:
    from licensewatch.intelligence.history import Change

_COLUMNS = (
    "occurred_at",
    "tenant",
    "kind",
    "user_principal_name",
    "product",
    "sku_part_number",
    "sku_id",
    "assigned_by_group",
    "group_name",
    "detail",
    "run_id",
)


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
    from licensewatch.intelligence.history import ChangeQuery, change_history
    from licensewatch.services.tenant_lookup import tenant_by_name
    from licensewatch.storage.database import session_scope

    with expected_errors():
        after = utcnow() - parse_duration(since) if since is not None else None
        with database() as engine, session_scope(engine, write=False) as session:
            if tenant is not None:
                tenant = tenant_by_name(session, tenant).name
            query = ChangeQuery(
                tenant=tenant,
                since=after,
                user=user,
                kind=kind.value if kind is not None else None,
            )
            found = change_history(session, query, limit=limit)
    rows = [
        row.model_dump(mode="json", exclude={"description"})
        | {"occurred_at": row.occurred_at.isoformat()}
        for row in found
    ]
    if output == OutputFormat.JSON:
        print_json(rows)
    elif output == OutputFormat.CSV:
        print_csv(
            [row | {"detail": c.description} for row, c in zip(rows, found, strict=True)], _COLUMNS
        )
    elif not rows:
        stdout().print("No licence changes recorded (the first sync of a tenant is the baseline).")
    else:
        print_changes(found, wide=wide)


def print_changes(rows: list[Change], *, wide: bool = False) -> None:
    several = len({row.tenant for row in rows}) > 1
    tenant = [Column("tenant", fold=True)] * several
    columns = [Column("when"), *tenant, Column("change", priority=2)]
    columns += [Column("user", fold=True), Column("product", fold=True)]
    columns += [Column("detail", priority=1, fold=True)]
    lines = []
    for row in rows:
        cells = [f"{row.occurred_at:%Y-%m-%d %H:%M}", *([row.tenant] * several)]
        cells += [row.kind, row.user_principal_name or "-"]
        cells += [row.product or "-", row.description]
        lines.append(Line([str(cell) for cell in cells]))
    print_table(f"Licence changes ({len(rows)})", columns, lines, wide=wide)
