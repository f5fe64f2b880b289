"""The stored order key of a recommendation sorts as the recommendations are ordered, and a
delta's new rows find room between their neighbours (or say there is none)."""

from __future__ import annotations

import random
from decimal import Decimal

from licensewatch.intelligence.read_models import recommendations_store as store
from licensewatch.intelligence.read_models.recommendations_delta import place
from licensewatch.intelligence.recommendations import Action, Confidence, Recommendation, order_key

NAMES = ["a@x", "A@x.de", "ab@x", "a@xy", "é@x", "z@x", "Ω@x", "a.b@x", "a@x\u00e9", "ß@x"]
PARTS = ["SPE_E3", "SPE_E5", "SPE_E", "ENTERPRISEPACK", "E3"]


def _rec(rng: random.Random) -> Recommendation:
    yearly = rng.choice([None, Decimal("0.00"), Decimal("432.00"), Decimal("9.99"), Decimal("684")])
    return Recommendation(
        "t", rng.choice(NAMES), "", rng.choice(list(Action)).value, "sku", rng.choice(PARTS), "",
        None, None, None, "", {}, rng.choice(list(Confidence)).value,
        None if yearly is None else yearly / 12, yearly, "EUR",
    )  # fmt: skip


def test_the_stored_key_sorts_as_the_order() -> None:
    rng = random.Random(5)
    recs = [_rec(rng) for _ in range(400)]

    def key(r: Recommendation) -> tuple[object, ...]:
        upn, part = r.user_principal_name, r.sku_part_number
        return order_key(r.yearly_saving, r.confidence, r.action, upn, part)

    by_order = sorted(range(len(recs)), key=lambda i: key(recs[i]))
    by_bytes = sorted(range(len(recs)), key=lambda i: store.sort_key(recs[i]))
    assert [key(recs[i]) for i in by_bytes] == [key(recs[i]) for i in by_order]


def test_new_rows_are_spread_over_their_gap_or_refused() -> None:
    step = store.spacing(10)
    assert place([(None, None)] * 3, step) == [0, step, 2 * step]  # as a full build
    assert place([(0, 8), (0, 8), (8, None)], step) == [2, 5, 8 + step]
    assert place([(None, 0)], step) == [-step]
    assert place([(4, 6), (4, 6)], step) is None  # one free position for two rows
    assert place([(store.HIGHEST, None)], step) is None
    assert place([(None, store.LOWEST)], step) is None
