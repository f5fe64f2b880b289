"""Every resource the web serves as a page, its `.json` twin and an /api/v1 read (web/twins.py).

A resource with a page has three routes from one declaration; an API-only read (no page of the
same data) is declared here too, so that every /api/v1 GET route comes from this list.
"""

from __future__ import annotations

from typing import Any

from licensewatch.web.resources import (
    history,
    intelligence,
    plans,
    products,
    renewals,
    tenants,
    users,
)
from licensewatch.web.twins import Resource

RESOURCES: list[Resource[Any, Any]] = [
    users.USERS,
    users.USER,
    tenants.TENANTS,
    tenants.TENANT,
    products.BALANCE,
    products.PRODUCT,
    products.HOLDERS,
    products.SUBSCRIPTIONS,
    renewals.RENEWALS,
    renewals.SAVINGS,
    history.RUNS,
    history.CHANGES,
    history.AUDIT,
    plans.PLANS,
    plans.PLAN,
    intelligence.FINDINGS,
    intelligence.COSTS,
    intelligence.RECOMMENDATIONS,
    intelligence.USAGE,
    intelligence.CATALOG,
    intelligence.PRICES,
    intelligence.ALERTS,
]
