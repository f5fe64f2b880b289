"""Product prices (amount, currency, monthly or annual term): set, list, remove, import CSV."""

from __future__ import annotations

import csv
import io
import logging
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from licensewatch.domain.prices import parse_price, stored_price
from licensewatch.intelligence.builtin_names import FREE_PART_NUMBERS
from licensewatch.intelligence.catalog import UnknownProduct, resolve_product
from licensewatch.services.audit import DetailValue, append
from licensewatch.storage.database import session_scope
from licensewatch.storage.models.intelligence import PriceTerm, ProductPrice

_CURRENCY = re.compile(r"^[A-Z]{3}$")
_MAX_PROBLEMS = 10
_TERMS = frozenset(term.value for term in PriceTerm)
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Price:
    """A unit price per term; `monthly` is what one unit costs per month."""

    sku_id: str
    part_number: str | None
    amount: Decimal
    currency: str
    term: PriceTerm

    @property
    def monthly(self) -> Decimal:
        return self.amount if self.term == PriceTerm.MONTHLY else self.amount / 12

    def to_dict(self) -> dict[str, Any]:
        return {
            "sku_id": self.sku_id,
            "part_number": self.part_number,
            "amount": str(self.amount),
            "currency": self.currency,
            "term": self.term.value,
        }


def unit_price(
    prices: dict[str, Price], sku_id: str, part_number: str | None
) -> tuple[Decimal | None, str | None]:
    """(monthly amount, currency) of one unit; a free SKU without a price costs 0, not unpriced."""
    price = prices.get(sku_id)
    if price is not None:
        return price.monthly, price.currency
    if part_number in FREE_PART_NUMBERS:
        return Decimal(0), None
    return None, None


def parse_amount(text: str | Decimal) -> Decimal:
    """A valid price (`domain.prices`: finite, 0 to 1,000,000, at most 4 decimal places)."""
    return parse_price(text)


def parse_currency(text: str) -> str:
    currency = text.strip().upper()
    if not _CURRENCY.match(currency):
        raise ValueError(f"currency {text!r} must be a three-letter ISO code such as EUR")
    return currency


def parse_term(text: str) -> PriceTerm:
    value = text.strip().lower()
    aliases = {"month": "monthly", "year": "annual", "yearly": "annual", "annually": "annual"}
    try:
        return PriceTerm(aliases.get(value, value))
    except ValueError:
        raise ValueError(f"term {text!r} must be monthly or annual") from None


_PRICES = select(
    ProductPrice.sku_id,
    ProductPrice.part_number,
    ProductPrice.amount,
    ProductPrice.currency,
    ProductPrice.term,
)


def load_prices(session: Session) -> dict[str, Price]:
    """Every price by SKU id."""
    prices: dict[str, Price] = {}
    for row in session.execute(_PRICES):  # Core rows: every renewal plan and cost page reads this
        amount = stored_price(row.amount)
        if amount is None or row.term not in _TERMS:
            # Written before prices were validated (1e309, 5,000 digits): "no price", not a 500.
            log.warning("ignoring the invalid stored price of %s", row.part_number or row.sku_id)
            continue
        prices[row.sku_id] = Price(
            row.sku_id, row.part_number, amount, row.currency, PriceTerm(row.term)
        )
    return prices


def _store(session: Session, key: str, amount: Decimal, currency: str, term: PriceTerm) -> Price:
    sku_id, part = resolve_product(session, key)
    row = session.get(ProductPrice, sku_id)
    if row is None:
        row = ProductPrice(sku_id=sku_id)
        session.add(row)
    row.part_number, row.amount, row.currency, row.term = part, str(amount), currency, term.value
    return Price(sku_id, part, amount, currency, term)


def set_price(
    engine: Engine, key: str, amount: str | Decimal, currency: str, term: str | PriceTerm
) -> Price:
    """Set a product's price by SKU id or part number."""
    value = parse_amount(amount)
    with session_scope(engine) as session:
        price = _store(session, key, value, parse_currency(currency), parse_term(str(term)))
        append(session, "price.set", _detail(price))
        return price


def _detail(price: Price) -> dict[str, DetailValue]:
    product = {"sku_id": price.sku_id, "product": price.part_number}
    return {**product, "amount": str(price.amount), "currency": price.currency, "term": price.term}


def remove_price(engine: Engine, key: str) -> bool:
    with session_scope(engine) as session:
        sku_id, _ = resolve_product(session, key)
        row = session.get(ProductPrice, sku_id)
        if row is not None:
            session.delete(row)
            append(session, "price.removed", {"sku_id": sku_id, "product": row.part_number})
        return row is not None


def import_prices(engine: Engine, data: bytes) -> list[Price]:
    """Prices from CSV columns product,price,currency,term; all rows or none are stored."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError("the price file is not UTF-8 text") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = {(name or "").strip().lower() for name in reader.fieldnames or []}
    missing = {"product", "price", "currency", "term"} - header
    if missing:
        raise ValueError(
            "price CSV needs the columns product,price,currency,term (missing "
            + ", ".join(sorted(missing))
            + ")"
        )
    problems: list[str] = []
    stored: list[Price] = []
    with session_scope(engine) as session:
        for row in reader:
            values = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
            try:
                price = _store(
                    session,
                    values["product"],
                    parse_amount(values["price"]),
                    parse_currency(values["currency"]),
                    parse_term(values["term"]),
                )
                stored.append(price)
            except (ValueError, UnknownProduct) as exc:
                problems.append(f"line {reader.line_num}: {exc}")
                if len(problems) >= _MAX_PROBLEMS:
                    break
        if problems:
            raise ValueError("no price was imported:\n" + "\n".join(problems))
        if not stored:
            raise ValueError("the price file has no rows")
        append(session, "prices.imported", {"count": len(stored)})
    return stored
