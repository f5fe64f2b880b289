"""Tables that fit the terminal: numbers whole, low-priority columns dropped, long text folded."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated

import typer
from rich.cells import cell_len
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from licensewatch.cli.output import stdout

WideOpt = Annotated[bool, typer.Option("--wide", help="Show every column, however wide.")]

# A folding column keeps at least this many characters, so that a product name wraps onto a
# second line rather than into one word per line.
_FOLD_MIN = 14
_UNBOUNDED = 100_000


@dataclass(frozen=True, slots=True)
class Column:
    """A column; priority 0 is always shown, the highest number is the first one dropped."""

    header: str
    priority: int = 0
    numeric: bool = False
    fold: bool = False  # free text (a name, an error) that may wrap; everything else never does


@dataclass(frozen=True, slots=True)
class Line:
    """One table row: a cell per column, in the columns' order."""

    cells: Sequence[str]
    style: str | None = None
    end_section: bool = False


def _natural(column: Column, index: int, lines: Sequence[Line]) -> int:
    return max([cell_len(column.header), *(cell_len(line.cells[index]) for line in lines)])


def _build(
    title: str | None, columns: Sequence[Column], shown: Sequence[int], lines: Sequence[Line]
) -> Table:
    result = Table(title=title, title_justify="left", header_style="bold")
    for index in shown:
        column = columns[index]
        natural = _natural(column, index, lines)
        result.add_column(
            column.header,
            justify="right" if column.numeric else "left",
            no_wrap=not column.fold,
            overflow="fold" if column.fold else "ellipsis",
            min_width=min(natural, _FOLD_MIN) if column.fold else natural,
        )
    for line in lines:
        result.add_row(
            *(Text(line.cells[i]) for i in shown), style=line.style, end_section=line.end_section
        )
    return result


def fit(
    title: str | None,
    columns: Sequence[Column],
    lines: Sequence[Line],
    *,
    width: int,
    wide: bool = False,
) -> Table:
    """The table with as many columns as fit in `width`; all of them when `wide`."""
    # Measured on an unbounded console: a bounded one clamps every measurement to its width.
    console = Console(width=_UNBOUNDED)
    shown = list(range(len(columns)))
    while True:
        result = _build(title, columns, shown, lines)
        if wide:
            return result
        needed = Measurement.get(console, console.options, result).minimum
        droppable = [i for i in shown if columns[i].priority > 0]
        if needed <= width or not droppable:
            return result
        shown.remove(max(droppable, key=lambda i: (columns[i].priority, i)))


def print_table(
    title: str | None, columns: Sequence[Column], lines: Sequence[Line], *, wide: bool = False
) -> None:
    """Prints the fitted table on stdout; `wide` shows every column, as wide as they need."""
    console = stdout()
    result = fit(title, columns, lines, width=console.width, wide=wide)
    if wide:
        unlimited = Console(width=_UNBOUNDED)
        needed = Measurement.get(unlimited, unlimited.options, result).maximum
        console.width = max(console.width, needed)
    console.print(result)
