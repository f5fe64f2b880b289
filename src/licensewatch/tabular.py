"""CSV and XLSX rows through the one cell rule (`domain.cells`): every export goes through here."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import IO, Any

from licensewatch.domain.cells import Cell, safe_cell


def csv_row(values: Iterable[object]) -> list[Cell]:
    """One CSV row: numbers stay numbers, text is cleaned and never starts a formula."""
    return [safe_cell(value) for value in values]


def pick(row: Mapping[str, Any], columns: Sequence[str]) -> list[Any]:
    """The values of `columns` in a dict row (absent keys are empty cells)."""
    return [row.get(column) for column in columns]


def write_csv(
    out: IO[str],
    columns: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    lineterminator: str = "\r\n",
) -> None:
    """A header line, then the rows, each cell through the cell rule."""
    writer = csv.writer(out, lineterminator=lineterminator)
    writer.writerow(csv_row(columns))
    for row in rows:
        writer.writerow(csv_row(row))


def xlsx_row(sheet: Any, values: Iterable[object]) -> list[Any]:
    """Cells for `sheet.append`, text explicitly typed as text.

    openpyxl infers the type from the value: a string starting with `=` becomes a formula and
    `#N/A` an error cell. Typing text as `s` (a string) means no text is ever evaluated.
    """
    # Imported here: every CLI table and CSV goes through this module, and openpyxl alone
    # costs about twice the start-up of `import typer` (issue 12).
    from openpyxl.cell import WriteOnlyCell

    cells: list[Any] = []
    for value in values:
        safe: Any = safe_cell(value)  # openpyxl's stubs omit bool and Decimal, which it writes
        if safe == "":
            safe = None  # an empty cell, not an empty inline string
        cell = WriteOnlyCell(sheet, value=safe)
        if isinstance(safe, str):
            cell.data_type = "s"
        cells.append(cell)
    return cells


def xlsx_bytes(title: str, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """An XLSX workbook with one sheet (`title`, at most 31 characters): a header, then rows."""
    from openpyxl import Workbook

    workbook: Any = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    sheet.append(xlsx_row(sheet, columns))
    for row in rows:
        sheet.append(xlsx_row(sheet, row))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
