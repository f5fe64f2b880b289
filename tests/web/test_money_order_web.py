"""Costs and findings pages: rows by money, "no price" said once, honest badges and a total."""

from __future__ import annotations

import re

import httpx
import pytest

from licensewatch.intelligence.prices import set_price
from web_fixtures import WebEnv


@pytest.fixture(scope="module", autouse=True)
def e5_price(web: WebEnv) -> None:
    """E5 (85 seats unassigned) has a price; E3 (over-assigned) has none."""
    set_price(web.engine, "ENTERPRISEPREMIUM", "30.00", "EUR", "monthly")


def test_findings_by_money_with_a_total(viewer: tuple[httpx.Client, str]) -> None:
    client, _ = viewer
    page = client.get("/findings").text
    rules = re.findall(r'data-rule="([a-z_]+)"', page)
    # E5 lapses within 10 days (105 × 30 EUR at stake), then its 85 unassigned seats.
    assert rules[:2] == ["lapsing_subscriptions", "unassigned_seats"]
    # Unavailable rules come last and carry no count badge (not a misleading 0).
    sections = page.split('<section class="card finding"')[1:]
    unavailable = [s for s in sections if "Unavailable:" in s]
    assert unavailable
    assert all('<span class="badge">unavailable</span>' in s for s in unavailable)
    assert all('<span class="badge">0</span>' not in s for s in unavailable)
    assert sections[-len(unavailable) :] == unavailable
    total = re.search(r'id="at-stake">([^<]+)<', page)
    assert total is not None
    # 105 lapsing + 80 unassigned paid seats (the seed's Warning subscription is a trial: trial
    # seats are not waste, docs/intelligence.md) + 2 disabled and 2 guest holders, × 30 EUR
    assert total.group(1) == "5,670.00 EUR"
    over = next(s for s in sections if 'data-rule="over_assigned"' in s or "Over-assigned" in s)
    # One product is over-assigned (by one seat): the badge counts products, seats beside it.
    assert re.search(r'<span class="badge" title="1 seats">1</span>', over)


def test_costs_say_no_price_once(viewer: tuple[httpx.Client, str]) -> None:
    client, _ = viewer
    page = client.get("/costs").text
    assert page.count("no price for") == 0
    assert page.count("Not counted, no price yet: Office 365 E3 (1 products)") == 1
    names = re.findall(r"<tr><td>(Office 365 E[35])</td>", page)
    assert names == ["Office 365 E5", "Office 365 E3"]  # by money: the priced product first
