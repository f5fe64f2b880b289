"""Tenant text cleaning (`domain.text`) and the spreadsheet cell rule (`domain.cells`)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from licensewatch.domain.cells import FORMULA_STARTS, safe_cell, safe_text
from licensewatch.domain.text import BIDI_CONTROLS, clean_optional, clean_text, is_clean

_UNSAFE = {chr(c) for c in [*range(0x20), *range(0x7F, 0xA0)]} | set(BIDI_CONTROLS)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Sales", "Sales"),
        ("Sales\x00Dept", "SalesDept"),
        ("\x1b[8mhidden\x1b[0m", "[8mhidden[0m"),
        ("a\r\nBcc: x", "a Bcc: x"),
        ("tab\there", "tab here"),
        ("\u202eevil\u202c", "evil"),
        ("\u2066iso\u2069", "iso"),
        ("ok\u200e", "ok\u200e"),  # a mark cannot reorder text: kept
        ("Zoë Müller 山田", "Zoë Müller 山田"),
        ("\ud800x", "\ufffdx"),
        ("\x9b31m", "31m"),  # C1 CSI
    ],
)
def test_clean_text(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean
    assert is_clean(clean)


def test_clean_optional_keeps_only_strings() -> None:
    assert clean_optional(5) is None
    assert clean_optional(None) is None
    assert clean_optional("a\x00") == "a"


@given(st.text())
def test_cleaned_text_has_no_control_or_bidi_character(value: str) -> None:
    cleaned = clean_text(value)
    assert not _UNSAFE & set(cleaned)
    assert not any(0xD800 <= ord(c) <= 0xDFFF for c in cleaned)
    cleaned.encode("utf-8")
    assert clean_text(cleaned) == cleaned  # idempotent: cleaning once is enough


@given(st.text())
def test_a_safe_cell_never_starts_a_formula(value: str) -> None:
    cell = safe_text(value)
    assert cell == "-" or not cell.lstrip(" ").startswith(FORMULA_STARTS)
    assert not _UNSAFE & set(cell)
    clean = clean_text(value)
    assert cell in (clean[:32_767], ("'" + clean)[:32_767])  # nothing lost but what was unsafe


def test_cells_keep_numbers_and_type_everything_else_as_text() -> None:
    assert safe_cell(-5) == -5
    assert safe_cell(True) is True
    assert safe_cell(2.5) == 2.5
    assert safe_cell(Decimal("-1.25")) == Decimal("-1.25")
    assert safe_cell(None) is None
    assert safe_cell(float("inf")) is None
    assert safe_cell("-5") == "'-5"  # text that looks like a number stays text
    assert safe_cell('=HYPERLINK("http://x","y")') == '\'=HYPERLINK("http://x","y")'
    assert safe_cell("@SUM(1)") == "'@SUM(1)"
    assert safe_cell("\t=1") == "' =1"
    assert safe_cell(" =1") == "' =1"
    assert safe_cell("-") == "-"  # the "nothing" placeholder computes nothing
    assert len(safe_text("x" * 40_000)) == 32_767
