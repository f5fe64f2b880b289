"""The recommendations summary's sums: by group (action, product, confidence) and reclaimed seats,
kept exact under a delta by adding the changed users' new recommendations and taking their old
ones away.

Every saving is rounded to the cent (`money.rounded`), so Decimal sums and differences are exact
and print as a full build's do. A group also counts its priced recommendations per currency
(`q`): a currency whose last one went away leaves the group, as a full build would not list it.
The groups are stored in key order, not in the order recommendations were found, so that the
full and the delta builds write the same text.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from licensewatch.domain.renewal_plan import reclaim_counts
from licensewatch.intelligence.recommendations.model import Recommendation

GroupKey = tuple[str, str, str]  # action, SKU id, confidence
Groups = dict[GroupKey, dict[str, Any]]
Seats = dict[str, tuple[int, int]]


def tally(groups: Groups, recs: Iterable[Recommendation], sign: int = 1) -> None:
    """Add (sign 1) or take away (-1) these recommendations' counts and savings."""
    for r in recs:
        key = (r.action, r.sku_id, r.confidence)
        group = groups.get(key)
        if group is None:
            group = groups[key] = {
                "a": r.action, "c": r.confidence, "s": r.sku_id, "p": r.sku_part_number,
                "n": r.product_name, "k": 0, "u": 0, "m": {}, "y": {}, "q": {},
            }  # fmt: skip
        group["k"] += sign
        if r.yearly_saving is None or r.monthly_saving is None:
            group["u"] += sign
        elif r.currency is not None:
            currency = r.currency
            group["q"][currency] = group["q"].get(currency, 0) + sign
            for field, amount in (("m", r.monthly_saving), ("y", r.yearly_saving)):
                group[field][currency] = group[field].get(currency, Decimal(0)) + sign * amount


def encode(groups: Groups) -> str:
    """The summary's `totals` text: groups left with a recommendation, in key order."""
    out: list[dict[str, Any]] = []
    for key in sorted(groups):
        group = groups[key]
        if group["k"] <= 0:
            continue
        held = sorted(c for c, n in group["q"].items() if n > 0)
        out.append(
            {
                **group,
                "m": {c: str(group["m"][c]) for c in held},
                "y": {c: str(group["y"][c]) for c in held},
                "q": {c: group["q"][c] for c in held},
            }
        )
    return json.dumps(out, separators=(",", ":"), ensure_ascii=False)


def decode(text: str) -> Groups | None:
    """The stored groups, to move by difference (None: stored before they counted currencies)."""
    groups: Groups = {}
    for g in json.loads(text):
        if "q" not in g:
            return None
        money = {f: {c: Decimal(a) for c, a in g[f].items()} for f in ("m", "y")}
        groups[(g["a"], g["s"], g["c"])] = {**g, **money, "q": dict(g["q"])}
    return groups


def seats_text(seats: Seats) -> str:
    kept = {sku: list(n) for sku, n in sorted(seats.items()) if n != (0, 0)}
    return json.dumps(kept, separators=(",", ":"))


def moved_seats(
    stored: Seats, removed: Iterable[Recommendation], added: Iterable[Recommendation]
) -> Seats:
    """The reclaimed seats with the changed users' old recommendations out and new ones in.

    Exact: `reclaim_counts` counts distinct users per SKU, and the changed users (all of their
    recommendations, old and new) are none of the others.
    """
    seats = dict(stored)
    for sign, recs in ((-1, removed), (1, added)):
        for sku, (freed, incoming) in reclaim_counts(recs).items():
            was = seats.get(sku, (0, 0))
            seats[sku] = (was[0] + sign * freed, was[1] + sign * incoming)
    return seats


def distinct_users(recs: Iterable[Recommendation]) -> int:
    return len({r.user_principal_name.lower() for r in recs})
