"""Tables that fit the terminal: numbers whole, low-priority columns dropped, long text folded."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

import typer

from licensewatch.cli.output import stdout

if TYPE_CHECKING:
    from rich.table import Table

WideOpt = Annotated[bool, typer.Option("--wide", help="Show every column, however wide.")]

# A folding column keeps at least this many characters, so that a product name wraps onto a
# second line rather than into one word per line.
_FOLD_MIN = 20
_FOLD_FLOOR = 6
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
    from rich.cells import cell_len  # rich only where a table is printed (issue 12)

    return max([cell_len(column.header), *(cell_len(line.cells[index]) for line in lines)])


def _build(
    title: str | None,
    columns: Sequence[Column],
    shown: Sequence[int],
    lines: Sequence[Line],
    fold_min: int = _FOLD_MIN,
) -> Table:
    from rich.table import Table
    from rich.text import Text

    result = Table(title=title, title_justify="left", header_style="bold")
    for index in shown:
        column = columns[index]
        natural = _natural(column, index, lines)
        result.add_column(
            column.header,
            justify="right" if column.numeric else "left",
            no_wrap=not column.fold,
            overflow="fold" if column.fold else "ellipsis",
            min_width=min(natural, fold_min) if column.fold else natural,
        )
    for line in lines:
        result.add_row(
            *(Text(line.cells[i]) for i in shown), style=line.style, end_section=line.end_section
        )
    return result


def _needed(
    columns: Sequence[Column], shown: Sequence[int], lines: Sequence[Line], fold_min: int
) -> int:
    """Width of the table with folding columns at their narrowest: the box draws one edge, and
    each column its padding (one space each side) and one divider."""
    widths = (
        min(_natural(columns[i], i, lines), fold_min)
        if columns[i].fold
        else _natural(columns[i], i, lines)
        for i in shown
    )
    return 1 + sum(width + 3 for width in widths)


def fit(
    title: str | None,
    columns: Sequence[Column],
    lines: Sequence[Line],
    *,
    width: int,
    wide: bool = False,
) -> Table:
    """The table with as many columns as fit in `width`; all of them when `wide`."""
    shown = list(range(len(columns)))
    while not wide and _needed(columns, shown, lines, _FOLD_MIN) > width:
        droppable = [i for i in shown if columns[i].priority > 0]
        if not droppable:
            break
        shown.remove(max(droppable, key=lambda i: (columns[i].priority, i)))
    fold_min = _FOLD_MIN
    # Only essential columns left and still too wide: the text folds narrower, never a number.
    while not wide and fold_min > _FOLD_FLOOR and _needed(columns, shown, lines, fold_min) > width:
        fold_min -= 1
    return _build(title, columns, shown, lines, fold_min)


def print_table(
    title: str | None, columns: Sequence[Column], lines: Sequence[Line], *, wide: bool = False
) -> None:
    """Prints the fitted table on stdout; `wide` shows every column, as wide as they need."""
    console = stdout()
    result = fit(title, columns, lines, width=console.width, wide=wide)
    if wide:
        from rich.console import Console
        from rich.measure import Measurement

        unlimited = Console(width=_UNBOUNDED)
        needed = Measurement.get(unlimited, unlimited.options, result).maximum
        console.width = max(console.width, needed)
    console.print(result)
