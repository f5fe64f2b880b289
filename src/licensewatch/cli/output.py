"""CLI output: Rich tables, JSON and CSV, checklists, one-line errors on stderr, logging setup."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from enum import StrEnum
from typing import Any, NoReturn

import typer
from rich.console import Console, RenderableType
from rich.markup import escape
from rich.table import Table
from rich.text import Text
from sqlalchemy.exc import OperationalError

from licensewatch.domain.text import clean_text
from licensewatch.logging_setup import configure_logging
from licensewatch.security.redaction import redact
from licensewatch.settings import Settings
from licensewatch.tabular import pick, write_csv


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"


class ExitCode:
    OK = 0
    FAILED = 1  # the operation ran and failed (Entra/Graph said no, a sync failed)
    USAGE = 2  # bad input: fix the command line or the configuration


def stdout() -> Console:
    """A console on the current sys.stdout (test runners swap it).

    Its width is the terminal's, or $COLUMNS when set; 200 when piped, so that a pipe gets
    tables whole.
    """
    sized = sys.stdout.isatty() or os.environ.get("COLUMNS", "").isdigit()
    return Console(highlight=False, soft_wrap=False, width=None if sized else 200)


def stderr() -> Console:
    return Console(stderr=True, highlight=False, width=None if sys.stderr.isatty() else 200)


def counted(number: int, noun: str, plural: str | None = None) -> str:
    """`1 page`, `2 pages`, `12,000 users`, `0 retries`."""
    return f"{number:,} {noun if number == 1 else plural or noun + 's'}"


def fail(message: str, code: int = ExitCode.USAGE, fix: str | None = None) -> NoReturn:
    """Prints `error: message` (and the fix) on stderr and exits; never a traceback."""
    console = stderr()
    console.print(f"[bold red]error:[/] {escape(redact(message))}", soft_wrap=True)
    if fix:
        console.print(f"[bold]fix:[/] {escape(fix)}", soft_wrap=True)
    raise typer.Exit(code)


def warn(message: str) -> None:
    stderr().print(f"[bold yellow]warning:[/] {escape(message)}", soft_wrap=True)


def info(message: str) -> None:
    stderr().print(escape(message), soft_wrap=True)


def message_of(error: BaseException) -> str:
    """The error's own message: str() of a KeyError adds quotes, stripping them cut real ones."""
    if len(error.args) == 1 and isinstance(error.args[0], str):
        return error.args[0]
    return str(error)


@contextmanager
def expected_errors() -> Iterator[None]:
    """Maps the errors an admin can act on to one-line messages and exit codes."""
    from licensewatch.security.crypto import DecryptionError, SecretKeyError
    from licensewatch.security.files import FileModeError
    from licensewatch.services.tenant_lookup import TenantNotFound

    try:
        yield
    except (TenantNotFound, SecretKeyError, FileModeError, ValueError) as error:
        fail(message_of(error), ExitCode.USAGE)
    except DecryptionError as error:
        fail(str(error), ExitCode.FAILED)
    except OperationalError as error:
        fail(
            f"database unreachable: {str(error.orig).strip().splitlines()[0]}",
            ExitCode.FAILED,
            fix="check LICENSEWATCH_DATABASE_URL and that the database server is running",
        )


def print_json(data: Any) -> None:
    """Plain JSON on stdout (no Rich markup, colours or wrapping: it is meant for programs)."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def print_csv(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> None:
    """CSV on stdout, every cell through the export cell rule (no formulas, no controls)."""
    write_csv(sys.stdout, columns, (pick(row, columns) for row in rows))


class PlainTable(Table):
    """A Rich table whose text cells are shown as they are: never read as markup or escapes.

    Cells hold tenant data (a department of `[/bold]` is Rich markup, ESC starts a terminal
    escape sequence), so a str cell becomes a `Text` without markup and without control or bidi
    characters. Style a cell by passing a `Text` yourself.
    """

    def add_row(self, *renderables: RenderableType | None, **options: Any) -> None:
        cells = [Text(clean_text(cell)) if isinstance(cell, str) else cell for cell in renderables]
        super().add_row(*cells, **options)


def table(title: str | None, columns: Sequence[str], *, numeric: Sequence[str] = ()) -> Table:
    """A Rich table with right-aligned numeric columns; text cells are plain text (`PlainTable`)."""
    title = escape(clean_text(title)) if title is not None else None
    result = PlainTable(title=title, title_justify="left", header_style="bold")
    for column in columns:
        result.add_column(escape(column), justify="right" if column in numeric else "left")
    return result


_MARKS = {"ok": "[green]✓[/]", "fail": "[red]✗[/]", "warn": "[yellow]![/]", "skip": "[dim]-[/]"}


def _field(item: Any, *names: str) -> Any:
    for name in names:
        value = item.get(name) if isinstance(item, Mapping) else getattr(item, name, None)
        if value is not None:
            return value
    return None


def print_checklist(report: Any) -> None:
    """The diagnostic checklist: ✓/✗/! per check, with its detail and, when failing, the fix."""
    console = stdout()
    for check in report.checks:
        status = str(_field(check, "status", "state") or "").lower()
        mark = _MARKS.get(status[:4], _MARKS.get(status, "?"))
        console.print(f"{mark} {escape(str(_field(check, 'title', 'name', 'label') or ''))}")
        detail = _field(check, "detail", "message")
        if detail:
            console.print(f"    {escape(redact(str(detail)))}", soft_wrap=True)
        fix = _field(check, "fix", "remedy")
        if fix and status[:4] != "ok":
            console.print(f"    [bold]fix:[/] {escape(str(fix))}", soft_wrap=True)
    verdict = (
        "[green]ready to sync[/]" if report.ok else "[red]not ready: fix the items marked ✗[/]"
    )
    console.print(verdict)


def setup_logging(settings: Settings) -> None:
    """Logs on stderr in the configured format, always through the redaction filter."""
    configure_logging(settings)
