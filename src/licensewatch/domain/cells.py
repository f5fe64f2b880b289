"""The one rule for spreadsheet cells (CSV and XLSX): text stays text and never starts a formula."""

from __future__ import annotations

import math
from datetime import date, datetime
from decimal import Decimal

from licensewatch.domain.text import clean_text

Cell = str | int | float | Decimal | bool | None

# Spreadsheet apps evaluate a cell starting with one of these as a formula, also in a CSV file
# (CSV injection: `=HYPERLINK(...)`, `@SUM(...)`, DDE via `=cmd|...`). OWASP's list.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# The longest text a cell holds (Excel's limit: longer text makes Excel repair the file).
MAX_CELL_TEXT = 32_767


def safe_text(value: str) -> str:
    """Text for a cell: control and bidi characters removed, a formula start neutralised by `'`."""
    text = clean_text(value)
    # " =1+1" is read as a formula too by some importers (they trim leading spaces first).
    # A lone "-" is the usual "nothing" placeholder and cannot compute anything: kept as is.
    if text.lstrip(" ").startswith(FORMULA_STARTS) and text != "-":
        text = "'" + text
    return text[:MAX_CELL_TEXT]


def safe_cell(value: object) -> Cell:
    """A value for a CSV or XLSX cell: numbers and booleans stay numbers, everything else text."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, datetime | date):
        return value.isoformat()
    return safe_text(str(value))
