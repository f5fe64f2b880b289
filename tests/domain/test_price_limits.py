"""Prices as admins type them (`domain.prices`): bounded, finite, 4 decimal places, clear errors."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from licensewatch.domain.prices import MAX_PRICE, InvalidPrice, parse_price, stored_price


@pytest.mark.parametrize(
    ("text", "value"),
    [("32.00", "32.00"), ("0", "0"), (" 7 ", "7"), (".5", "0.5"), ("1000000", "1000000"),
     ("0.0001", "0.0001"), ("-0", "0"), ("+3", "3")],
)  # fmt: skip
def test_valid_prices(text: str, value: str) -> None:
    assert str(parse_price(text)) == value


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1e309", "not a number"),
        ("1" * 5000, "too long"),
        ("9" * 30, "above the limit"),
        ("1000000.0001", "above the limit"),
        ("-1", "zero or positive"),
        ("NaN", "not a number"),
        ("Infinity", "not a number"),
        ("sNaN", "not a number"),
        ("32,50", "use a dot"),
        ("0.12345", "more than 4 decimal places"),
        ("1_000", "not a number"),
        ("\u0663", "not a number"),  # ARABIC-INDIC DIGIT THREE: Decimal would accept it
        ("", "not a number"),
    ],
)
def test_invalid_prices_say_why(text: str, message: str) -> None:
    with pytest.raises(InvalidPrice, match=message):
        parse_price(text)
    assert stored_price(text) is None


def test_decimal_input_is_checked_too() -> None:
    assert parse_price(Decimal("1E+2")) == Decimal(100)
    assert str(parse_price(Decimal("1E+2"))) == "100"  # plain notation when stored
    with pytest.raises(InvalidPrice):
        parse_price(Decimal("1e309"))
    with pytest.raises(InvalidPrice):
        parse_price(Decimal("NaN"))
    with pytest.raises(InvalidPrice):
        parse_price(True)


@given(st.text(max_size=60))
def test_any_text_is_a_valid_price_or_an_invalid_price_error(text: str) -> None:
    try:
        price = parse_price(text)
    except InvalidPrice as error:
        message = str(error)
    else:
        message = ""
        assert Decimal(0) <= price <= MAX_PRICE
        assert price == price.quantize(Decimal("0.0001"))
        assert parse_price(str(price)) == price
    assert "\n" not in message  # one line, whatever was typed
