"""Top-level `licensewatch audit`: the audit log (sign-ins and refusals), newest first."""

from __future__ import annotations

from typing import Annotated

import typer

from licensewatch.cli.output import OutputFormat, expected_errors, print_csv, print_json, stdout
from licensewatch.cli.tables import Column, Line, WideOpt, print_table

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
    """The audit log: sign-ins and refused sign-ins, newest first (never a secret)."""
    from licensewatch.cli.database import database
    from licensewatch.services.audit import recent

    with expected_errors(), database() as engine:
        events = [event.to_dict() for event in recent(engine, limit)]
    if output == OutputFormat.JSON:
        print_json(events)
    elif output == OutputFormat.CSV:
        print_csv(events, _FIELDS)
    elif not events:
        stdout().print("Nothing recorded yet.")
    else:
        lines = [
            Line(
                [e["at"][:16].replace("T", " "), e["actor"] or "-", e["address"] or "-",
                 e["action"], e["outcome"], e["detail"] or ""],
                style=None if e["outcome"] == "ok" else "red",
            )
            for e in events
        ]  # fmt: skip
        print_table(f"Audit log ({len(events)})", _COLUMNS, lines, wide=wide)
