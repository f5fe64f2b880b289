"""Top-level `licensewatch changes`: the licence change history, filtered, as table, JSON or CSV."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from licensewatch.cli.output import (
    OutputFormat,
    expected_errors,
    print_csv,
    print_json,
    stdout,
    table,
)
from licensewatch.domain.schedule import parse_duration
from licensewatch.storage.models import ChangeKind, utcnow

if TYPE_CHECKING:
    from licensewatch.intelligence.history import Change

_COLUMNS = (
    "occurred_at", "tenant", "kind", "user_principal_name", "product", "sku_part_number",
    "sku_id", "assigned_by_group", "group_name", "detail", "run_id",
)  # fmt: skip


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
) -> None:
    """Licence changes seen by syncs: licences gained or lost, accounts, users, units bought."""
    from licensewatch.cli.tenants import tenant_service
    from licensewatch.intelligence.history import ChangeQuery, change_history
    from licensewatch.storage.database import session_scope

    with expected_errors(), tenant_service() as service:
        after = utcnow() - parse_duration(since) if since is not None else None
        if tenant is not None:
            tenant = service.show(tenant).name
        with session_scope(service.engine, write=False) as session:
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
        print_table(found)


def print_table(rows: list[Change]) -> None:
    several = len({row.tenant for row in rows}) > 1
    columns = ["when", *(["tenant"] * several), "change", "user", "product", "detail"]
    result = table(f"Licence changes ({len(rows)})", columns)
    for row in rows:
        cells = [f"{row.occurred_at:%Y-%m-%d %H:%M:%S}", *([row.tenant] * several)]
        cells += [row.kind, row.user_principal_name or "-"]
        cells += [row.product or "-", row.description]
        result.add_row(*(escape(str(cell)) for cell in cells))
    stdout().print(result)
