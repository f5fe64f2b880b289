"""CLI output: Rich tables, JSON and CSV, checklists, one-line errors on stderr, logging setup.

Rich is imported when something is printed through it: a command writing JSON or CSV never
loads it (issue 12: start-up time).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from enum import StrEnum
from typing import TYPE_CHECKING, Any, NoReturn

import typer

from licensewatch.basic_settings import BasicSettings
from licensewatch.logging_setup import configure_logging
from licensewatch.security.redaction import redact
from licensewatch.tabular import pick, write_csv

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from licensewatch.settings import Settings


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
    from rich.console import Console

    sized = sys.stdout.isatty() or os.environ.get("COLUMNS", "").isdigit()
    return Console(highlight=False, soft_wrap=False, width=None if sized else 200)


def stderr() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False, width=None if sys.stderr.isatty() else 200)


def escape(text: str) -> str:
    """Rich markup escaped (`[` of tenant data is not a style); rich imported on first use."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


def counted(number: int, noun: str, plural: str | None = None) -> str:
    """`1 page`, `2 pages`, `12,000 users`, `0 retries`."""
    return f"{number:,} {noun if number == 1 else plural or noun + 's'}"


def fail(message: str, code: int = ExitCode.USAGE, fix: str | None = None) -> NoReturn:
    """Prints `error: message` (and the fix) on stderr and exits; never a traceback."""
    from rich.markup import escape

    console = stderr()
    console.print(f"[bold red]error:[/] {escape(redact(message))}", soft_wrap=True)
    if fix:
        console.print(f"[bold]fix:[/] {escape(fix)}", soft_wrap=True)
    raise typer.Exit(code)


def warn(message: str) -> None:
    from rich.markup import escape

    stderr().print(f"[bold yellow]warning:[/] {escape(message)}", soft_wrap=True)


def info(message: str) -> None:
    from rich.markup import escape

    stderr().print(escape(message), soft_wrap=True)


def message_of(error: BaseException) -> str:
    """The error's own message: str() of a KeyError adds quotes, stripping them cut real ones."""
    if len(error.args) == 1 and isinstance(error.args[0], str):
        return error.args[0]
    return str(error)


# Errors of modules a quick read never imports (the ORM models, cryptography): a class its
# module did not load cannot have been raised, so only loaded modules are asked for theirs.
_USAGE_ERRORS = (
    ("licensewatch.services.tenant_lookup", "TenantNotFound"),
    ("licensewatch.security.crypto", "SecretKeyError"),
)
_FAILED_ERRORS = (("licensewatch.security.crypto", "DecryptionError"),)
# SQLAlchemy's wraps sqlite3's; a quick read on SQLite raises sqlite3's own (cli/database.py).
_UNREACHABLE = (("sqlalchemy.exc", "OperationalError"), ("sqlite3", "OperationalError"))


def _loaded(names: Sequence[tuple[str, str]]) -> tuple[type[BaseException], ...]:
    modules = ((sys.modules.get(module), name) for module, name in names)
    return tuple(getattr(module, name) for module, name in modules if module is not None)


@contextmanager
def expected_errors() -> Iterator[None]:
    """Maps the errors an admin can act on to one-line messages and exit codes."""
    from licensewatch.security.files import FileModeError

    try:
        yield
    except (FileModeError, ValueError) as error:
        fail(message_of(error), ExitCode.USAGE)
    except _loaded(_USAGE_ERRORS) as error:
        fail(message_of(error), ExitCode.USAGE)
    except _loaded(_FAILED_ERRORS) as error:
        fail(str(error), ExitCode.FAILED)
    except _loaded(_UNREACHABLE) as error:
        reason = getattr(error, "orig", error)
        fail(
            f"database unreachable: {str(reason).strip().splitlines()[0]}",
            ExitCode.FAILED,
            fix="check LICENSEWATCH_DATABASE_URL and that the database server is running",
        )


def print_json(data: Any) -> None:
    """Plain JSON on stdout (no Rich markup, colours or wrapping: it is meant for programs)."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def print_csv(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> None:
    """CSV on stdout, every cell through the export cell rule (no formulas, no controls)."""
    write_csv(sys.stdout, columns, (pick(row, columns) for row in rows))


def table(title: str | None, columns: Sequence[str], *, numeric: Sequence[str] = ()) -> Table:
    """A Rich table with right-aligned numeric columns; text cells are plain text (`PlainTable`)."""
    from rich.markup import escape

    from licensewatch.cli.plain_table import PlainTable
    from licensewatch.domain.text import clean_text

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
    from rich.markup import escape

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


def setup_logging(settings: Settings | BasicSettings) -> None:
    """Logs on stderr in the configured format, always through the redaction filter."""
    configure_logging(settings)
