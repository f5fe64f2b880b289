"""`licensewatch audit`: the audit log (admin actions, exports, sign-ins), newest first."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from licensewatch.cli.output import OutputFormat, expected_errors, print_csv, print_json, stdout
from licensewatch.cli.tables import Column, Line, WideOpt, print_table

if TYPE_CHECKING:
    from licensewatch.services.audit import AuditView

_COLUMNS = (
    Column("when"),
    Column("who", fold=True),
    Column("from", priority=2),
    Column("action", priority=1),
    Column("outcome"),
    Column("detail", priority=3, fold=True),
)
_FIELDS = ["at", "actor", "address", "action", "outcome", "detail"]


def audit(
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many.")] = 100,
    output: Annotated[
        OutputFormat, typer.Option("--format", help="table, json or csv.")
    ] = OutputFormat.TABLE,
    wide: WideOpt = False,
) -> None:
    """The audit log: admin actions, exports and sign-ins, newest first (never a secret)."""
    from licensewatch.cli.database import database
    from licensewatch.services.audit import recent

    with expected_errors(), database() as engine:
        events = recent(engine, limit)
    if output == OutputFormat.JSON:
        print_json([event.to_dict() for event in events])
    elif output == OutputFormat.CSV:
        print_csv([event.to_dict() for event in events], _FIELDS)
    elif not events:
        stdout().print("Nothing recorded yet.")
    else:
        lines = [_line(e) for e in events]
        print_table(f"Audit log ({len(events)})", _COLUMNS, lines, wide=wide)


def _line(event: AuditView) -> Line:
    when = f"{event.at:%Y-%m-%d %H:%M}"
    who, where = event.actor or "-", event.address or "-"
    cells = [when, who, where, event.action, event.outcome, event.detail or ""]
    return Line(cells, style=None if event.outcome == "ok" else "red")
