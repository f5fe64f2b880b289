"""Licence prices as admins type them: finite, 0 to 1,000,000, at most 4 decimal places."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

# One licence never costs more than a million per month or year; anything above is a typo or an
# attack (1e309 or a 5,000-digit price broke every cost page). Four decimal places cover the
# sub-cent prices of consumption SKUs; more would only be noise in sums.
MAX_PRICE = Decimal("1000000")
MAX_DECIMAL_PLACES = 4
MAX_PRICE_TEXT = 32  # the column width; longer text cannot be a valid price anyway
_STEP = Decimal(1).scaleb(-MAX_DECIMAL_PLACES)
# ASCII digits and an optional dot only: no exponent, `_`, `,` or other scripts' digits.
_PRICE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)")


class InvalidPrice(ValueError):
    """A price an admin must correct; the message says how, in one line."""


def _checked(amount: Decimal, shown: str) -> Decimal:
    if not amount.is_finite():
        raise InvalidPrice(f"price {shown} is not a number (use digits and a dot: 32.50)")
    if amount < 0:
        raise InvalidPrice(f"price {shown} must be zero or positive")
    if amount > MAX_PRICE:
        raise InvalidPrice(f"price {shown} is above the limit of {MAX_PRICE:,} per licence")
    if amount != amount.quantize(_STEP):
        raise InvalidPrice(f"price {shown} has more than {MAX_DECIMAL_PLACES} decimal places")
    # Plain notation (no 1E+2) and no negative zero: what is stored reads back the same.
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent > 0:
        amount = amount.quantize(Decimal(1))
    return amount.copy_abs()


def parse_price(value: str | Decimal | int) -> Decimal:
    """A valid price from text (`32.50`) or a number; `InvalidPrice` says what is wrong."""
    if isinstance(value, Decimal | int) and not isinstance(value, bool):
        return _checked(Decimal(value), str(value))
    if not isinstance(value, str):
        raise InvalidPrice("price must be a number such as 32.50")
    text = value.strip()
    shown = repr(text if len(text) <= MAX_PRICE_TEXT else text[:MAX_PRICE_TEXT] + "…")
    if len(text) > MAX_PRICE_TEXT:
        raise InvalidPrice(f"price {shown} is too long (at most {MAX_PRICE_TEXT} characters)")
    if "," in text and _PRICE.fullmatch(text.replace(",", ".")):
        raise InvalidPrice(f"price {shown} is not a number: use a dot for decimals (32.50)")
    if not _PRICE.fullmatch(text):
        raise InvalidPrice(f"price {shown} is not a number (use digits and a dot: 32.50)")
    try:
        amount = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
        raise InvalidPrice(f"price {shown} is not a number") from None
    return _checked(amount, shown)


def stored_price(text: str) -> Decimal | None:
    """A price read back from the database; None when the row holds an invalid one.

    Rows written before prices were validated may hold 1e309 or thousands of digits; such a
    price is treated as missing ("no price") instead of breaking every cost computation.
    """
    try:
        return parse_price(text)
    except InvalidPrice:
        return None
