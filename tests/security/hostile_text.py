"""Hostile tenant strings (formulas, NUL, controls, bidi, escapes) and checks of what came out."""

from __future__ import annotations

import csv
import io
import zipfile

from hypothesis import strategies as st
from openpyxl import load_workbook

# What a spreadsheet reads as the start of a formula (CSV injection), leading spaces ignored.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Characters that must never reach a page, a cell or a terminal.
CONTROLS = [chr(c) for c in [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)]]
BIDI = [chr(c) for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]]
FORBIDDEN = frozenset(CONTROLS + BIDI + ["\u2028", "\u2029"])

SAMPLES = [
    '=HYPERLINK("http://x","y")',
    "=1+1",
    "+1+1",
    "-2+3",
    "@SUM(A1:A2)",
    "=cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    " =1+1",
    "\x00=1+1",
    "\u202e=1+1",
    "Sales\x00Dept",
    "\x1b[8mhidden\x1b[0m",
    "\x1b]8;;http://evil.example\x1b\\click\x1b]8;;\x1b\\",
    "\u202eevil\u202c",
    "\u2066isolate\u2069",
    "[/bold]",
    "[bold red]x[/]",
    "#N/A",
    "line\r\nBcc: victim@example.com",
    "\ud800",
]

# What JSON from Graph can carry: UTF-8 text (a lone surrogate cannot be sent).
GRAPH_SAMPLES = [s for s in SAMPLES if not any(0xD800 <= ord(c) <= 0xDFFF for c in s)]
_ALPHABET = st.one_of(st.characters(codec="utf-8"), st.sampled_from(CONTROLS + BIDI))
_PREFIXES = ["", "=", "+", "-", "@", "\t", "\r", " =", "\x00", "\u202e", "\x1b["]
_BUILT = st.builds(
    lambda prefix, rest: prefix + rest,
    st.sampled_from(_PREFIXES),
    st.text(alphabet=_ALPHABET, max_size=24),
)
hostile = st.one_of(st.sampled_from(SAMPLES), _BUILT)
# What a Graph user's text field can hold (JSON carries no lone surrogate).
graph_hostile = st.one_of(st.sampled_from(GRAPH_SAMPLES), _BUILT)


def is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def check_text(where: str, value: str) -> None:
    """No control or bidi character, no formula start (numbers such as `-3` are numbers)."""
    bad = sorted({f"U+{ord(c):04X}" for c in value if c in FORBIDDEN or 0xD800 <= ord(c) <= 0xDFFF})
    assert not bad, f"{where}: {value!r} holds {bad}"
    if value.lstrip(" ").startswith(FORMULA_STARTS) and value != "-":  # "-": nothing to compute
        assert is_number(value), f"{where}: {value!r} starts a formula"


def check_csv(where: str, data: str | bytes, columns: int | None = None) -> list[list[str]]:
    """Every cell of a CSV passes `check_text`; every row has the header's width."""
    text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows, where
    width = columns or len(rows[0])
    for number, row in enumerate(rows, start=1):
        assert len(row) == width, f"{where} line {number}: {row!r}"
        for cell in row:
            check_text(f"{where} line {number}", cell)
    return rows


def check_xlsx(where: str, data: bytes) -> list[list[object]]:
    """No cell of any sheet is a formula or an error; text cells pass `check_text`."""
    workbook = load_workbook(io.BytesIO(data))
    values: list[list[object]] = []
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            values.append([cell.value for cell in row])
            for cell in row:
                spot = f"{where} {sheet.title}!{cell.coordinate}"
                assert cell.data_type in ("s", "n", "b", "d"), f"{spot}: {cell.data_type}"
                if isinstance(cell.value, str):
                    assert cell.data_type == "s", spot
                    check_text(spot, cell.value)
    return values


def check_zip(where: str, data: bytes) -> dict[str, list[list[str]]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {
            name: check_csv(f"{where}/{name}", archive.read(name)) for name in archive.namelist()
        }
