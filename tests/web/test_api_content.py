"""Every GET /api/v1 route, declared once: its URL on the seeded data, its body's shape and content.

In the style of netbox's API tests: one table (`CASES`) holds each route's expected status,
content type, JSON shape (exact keys and value types, recursively) and a check of the values the
seed (tests/web_seed.py) must produce. A new GET route without an entry fails
`test_every_get_route_has_a_case`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from licensewatch.domain.balance import BALANCE_COLUMNS
from web_fixtures import SECRET_VALUE, WebEnv
from web_seed import E3, E5, GROUP, user_id

NONE = type(None)
ANY: Any = object()
# A shape is a type, a tuple of types (one of them), a dict (an object with exactly these keys),
# a one-element list (a list of that shape) or ANY.
Shape = Any

MONEY = {"monthly": dict, "yearly": dict, "unpriced": [str], "text": str}
RUN = {
    "id": int,
    "tenant": str,
    "kind": str,
    "status": str,
    "started_at": str,
    "finished_at": (str, NONE),
    "duration_ms": (int, NONE),
    "users_read": int,
    "pages_read": int,
    "requests": int,
    "retries": int,
    "throttled": int,
    "error_kind": (str, NONE),
    "error_message": (str, NONE),
}
TENANT = {
    "name": str,
    "organization_name": (str, NONE),
    "tenant_id": str,
    "cloud": str,
    "products": int,
    "last_run": (RUN, NONE),
    "last_success_at": (str, NONE),
    "credential": ({"kind": str, "thumbprint": (str, NONE), "expires_at": (str, NONE)}, NONE),
}
BALANCE_ROW: dict[str, Shape] = dict.fromkeys(BALANCE_COLUMNS, ANY)  # the one balance schema
BALANCE_ROW.update(
    tenant=str,
    name=str,
    sku_id=str,
    sku_part_number=str,
    section=str,
    purchased=int,
    consumed=int,
    available=int,
    over_assigned=bool,
    utilisation=(float, int, NONE),
)
TOTALS = dict.fromkeys(
    (
        "products",
        "company_products",
        "free_products",
        "purchased",
        "grace",
        "trial",
        "consumed",
        "available",
        "unassigned",
        "lapsed_holders",
        "over_assigned_units",
        "over_assigned",
        "lapsed",
        "low",
        "expiring",
    ),
    int,
)
SUBSCRIPTION = {
    "tenant": str,
    "id": str,
    "sku_id": str,
    "sku_part_number": str,
    "status": str,
    "total_licenses": int,
    "trial": bool,
    "created_at": (str, NONE),
    "next_lifecycle_at": (str, NONE),
    "next_event": (str, NONE),
    "product": str,
}
USER = {
    "tenant": str,
    "id": str,
    "user_principal_name": str,
    "display_name": (str, NONE),
    "mail": (str, NONE),
    "account_enabled": (bool, NONE),
    "user_type": (str, NONE),
    "department": (str, NONE),
    "country": (str, NONE),
    "job_title": (str, NONE),
    "licences": [str],
    "products": [str],
}
ASSIGNMENT = {"assignment": str, "group_id": (str, NONE), "group_name": (str, NONE)}
ASSIGNMENT |= {"state": (str, NONE), "error": (str, NONE)}
HOLDER = {"user_id": str, "user_principal_name": str, "display_name": (str, NONE)}
HOLDER |= {"account_enabled": (bool, NONE), **ASSIGNMENT}
USER_LICENCE = {
    **HOLDER,
    "tenant": str,
    "user_type": (str, NONE),
    "department": (str, NONE),
    "country": (str, NONE),
    "sku_id": str,
    "sku_part_number": str,
    "product": str,
}
CHANGE = ANY  # the seed records no change; tests/web/test_change_history_web.py reads real ones


def page(item: Shape) -> dict[str, Shape]:
    return {
        "items": [item],
        "limit": int,
        "offset": int,
        "has_more": bool,
        "total": (int, NONE),
        "next_cursor": (str, NONE),  # where the next page starts (None on the last page)
    }


def by(rows: list[dict[str, Any]], key: str) -> dict[Any, dict[str, Any]]:
    return {row[key]: row for row in rows}


def _tenants(body: list[dict[str, Any]]) -> None:
    assert [t["name"] for t in body] == ["contoso"]
    assert body[0]["products"] == 2
    assert body[0]["last_run"]["status"] == "COMPLETED"
    assert body[0]["credential"]["kind"] == "secret"  # admins see the kind, never the value


def _tenant(body: dict[str, Any]) -> None:
    assert (body["name"], body["tenant_id"]) == ("contoso", "contoso.onmicrosoft.com")
    assert body["last_run"]["users_read"] == 60


def _balance(body: dict[str, Any]) -> None:
    rows = by(body["rows"], "sku_part_number")
    e3, e5 = rows["ENTERPRISEPACK"], rows["ENTERPRISEPREMIUM"]
    assert (e3["purchased"], e3["consumed"], e3["available"], e3["over_assigned"]) == (
        30,
        31,
        -1,
        True,
    )
    assert (e3["assigned_via_groups"], e3["assignment_errors"]) == (10, 1)
    assert (e5["purchased"], e5["trial"], e5["available"]) == (100, 5, 85)
    assert e3["name"] == "Office 365 E3"  # friendly names, not part numbers
    assert (body["totals"]["products"], body["totals"]["purchased"]) == (2, 130)


def _product(body: dict[str, Any]) -> None:
    assert body["balance"]["sku_id"] == E3
    assert [p["service_plan_name"] for p in body["service_plans"]] == ["EXCHANGE_S_ENTERPRISE"]
    assert [s["next_event"] for s in body["subscriptions"]] == ["renews"]
    assert [point["consumed"] for point in body["history"]] == [29, 30, 31]


def _holders(body: dict[str, Any]) -> None:
    holders = body["items"]
    assert len(holders) == 31
    assert not body["has_more"]
    via_group = [h for h in holders if h["assignment"] == "group"]
    assert len(via_group) == 10
    assert {(h["group_id"], h["group_name"]) for h in via_group} == {(GROUP, "Sales licences")}
    assert by(holders, "user_id")[user_id(0)]["error"] == "CountViolation"


def _subscriptions(body: list[dict[str, Any]]) -> None:
    # By next lifecycle date: the trial's grace end (10 days) before E3's renewal (65 days).
    assert [(s["sku_id"], s["trial"], s["next_event"]) for s in body] == [
        (E5, True, "grace ends"),
        (E3, False, "renews"),
    ]


def _users(body: dict[str, Any]) -> None:
    users = body["items"]
    assert len(users) == 60
    assert not body["has_more"]
    first = by(users, "id")[user_id(0)]
    assert (first["user_principal_name"], first["licences"]) == (
        "user000@contoso.example",
        ["ENTERPRISEPACK"],
    )
    assert first["products"] == ["Office 365 E3"]
    assert sum(u["user_type"] == "Guest" for u in users) == 4


def _user(body: dict[str, Any]) -> None:
    assert body["user"]["id"] == user_id(0)
    [licence] = body["licences"]
    assert (licence["sku_id"], licence["assignment"], licence["error"]) == (
        E3,
        "group",
        "CountViolation",
    )


def _runs(body: dict[str, Any]) -> None:
    runs = body["items"]
    assert len(runs) == 3
    assert [r["id"] for r in runs] == sorted((r["id"] for r in runs), reverse=True)  # newest first
    assert {r["status"] for r in runs} == {"COMPLETED"}


def _changes(body: dict[str, Any]) -> None:
    assert body["items"] == []
    assert not body["has_more"]


RECOMMENDATION = {
    "tenant": str,
    "user_principal_name": str,
    "display_name": str,
    "action": str,
    "sku_id": str,
    "sku_part_number": str,
    "product_name": str,
    "target_sku_id": (str, NONE),
    "target_sku_part_number": (str, NONE),
    "target_product_name": (str, NONE),
    "reason": str,
    "evidence": dict,
    "confidence": str,
    "monthly_saving": (str, NONE),
    "yearly_saving": (str, NONE),
    "currency": (str, NONE),
}


def _recommendations(body: list[dict[str, Any]]) -> None:
    # Disabled holders of the priced E3 (30 EUR a month) in the seed: remove, 360 EUR a year.
    removals = {
        r["user_principal_name"]
        for r in body
        if r["tenant"] == "contoso" and r["action"] == "remove" and r["sku_id"] == E3
    }
    assert {"user009@contoso.example", "user019@contoso.example"} <= removals
    first = next(r for r in body if r["user_principal_name"] == "user009@contoso.example")
    assert (first["yearly_saving"], first["currency"], first["confidence"]) == (
        "360.00",
        "EUR",
        "high",
    )
    assert first["evidence"] == {"account": "disabled"}


def _usage(body: list[dict[str, Any]]) -> None:
    # The seed has no usage collection yet: said as such, never an error.
    assert [(s["tenant"], s["state"]) for s in body] == [("contoso", "not_collected")]


def _findings(body: list[dict[str, Any]]) -> None:
    rules = by(body, "rule")
    assert (rules["over_assigned"]["count"], rules["unassigned_seats"]["count"]) == (1, 80)
    assert [a["key"] for a in rules["unassigned_seats"]["affected"]] == [E5]
    assert {f["tenant"] for f in body} == {"contoso"}


def _costs(body: list[dict[str, Any]]) -> None:
    [tenant] = body
    assert tenant["tenant"] == "contoso"
    assert tenant["purchased"]["monthly"] == {"EUR": "900.00"}  # 30 seats x the 30.00 EUR price
    assert tenant["purchased"]["unpriced"] == ["Office 365 E5"]
    products = by(tenant["products"], "sku_id")
    assert (products[E5]["unassigned"], products[E5]["price"]) == (80, "no price")


def _catalog(body: list[dict[str, Any]]) -> None:
    assert {(p["part_number"], p["name"], p["source"]) for p in body} == {
        ("ENTERPRISEPACK", "Office 365 E3", "built-in"),
        ("ENTERPRISEPREMIUM", "Office 365 E5", "built-in"),
    }


def _prices(body: list[dict[str, Any]]) -> None:
    assert body == [
        {
            "sku_id": E3,
            "part_number": "ENTERPRISEPACK",
            "amount": "30.00",
            "currency": "EUR",
            "term": "monthly",
        }
    ]


def _audit(body: list[dict[str, Any]]) -> None:
    # The fixtures' accounts, tenants and sign-ins (tests/web_fixtures.py): which of them ran
    # before this module varies, every one is an event `area.verb`.
    assert body, "the fixtures' accounts and tenant are recorded"
    assert all(e["outcome"] in {"ok", "refused", "failed"} for e in body)
    assert all(re.fullmatch(r"[a-z_]+\.[a-z_]+", e["action"]) for e in body)
    assert {"account.created", "tenant.added"} <= {e["action"] for e in body}
    assert [e["at"] for e in body] == sorted((e["at"] for e in body), reverse=True)


RENEWAL_PLAN = {
    "tenant": str,
    "product": str,
    "sku_part_number": str,
    "sku_id": str,
    "subscription_id": str,
    "status": str,
    "event": str,
    "renews_at": str,
    "days_left": int,
    "purchased": int,
    "subscription_units": int,
    "other_units": int,
    "assigned": int,
    "reclaimable": int,
    "incoming": int,
    "growth_per_month": (float, int),
    "growth": int,
    "buffer_percent": int,
    "buffer": int,
    "recommended": int,
    "change": int,
    "currency": (str, NONE),
    "unit_price_monthly": (str, NONE),
    "renewal_yearly": (str, NONE),
    "monthly_saving": (str, NONE),
    "yearly_saving": (str, NONE),
    "usage_as_of": (str, NONE),
}
MONTH = {
    "month": str,
    "renewals": int,
    "renewal_yearly": dict,
    "yearly_saving": dict,
    "unpriced": [str],
}


def _renewal_plan(body: dict[str, Any]) -> None:
    # E3 renews in 65 days: 30 units, 31 holders growing by one a day (29, 30, 31: 30 a month);
    # E5's only subscription is a trial: never planned.
    [plan] = body["plans"]
    assert (plan["sku_id"], plan["event"], plan["subscription_units"]) == (E3, "renews", 30)
    assert (plan["assigned"], plan["growth_per_month"], plan["buffer_percent"]) == (31, 30.0, 10)
    assert plan["growth"] == 65  # 30 a month for the 65 days (less the test's seconds) left
    needed = 31 - plan["reclaimable"] + plan["incoming"]
    assert plan["buffer"] == -(-(needed + plan["growth"]) * 10 // 100)
    assert plan["recommended"] == needed + plan["growth"] + plan["buffer"]
    assert (plan["currency"], plan["renewal_yearly"]) == ("EUR", "10800.00")
    assert plan["yearly_saving"] == f"{(30 - plan['recommended']) * 360}.00"
    assert len(body["calendar"]) == 12
    [month] = [m for m in body["calendar"] if m["renewals"]]
    assert month["month"] == plan["renews_at"][:7]
    assert month["yearly_saving"] == {"EUR": plan["yearly_saving"]}


USAGE_STATE = {
    "tenant": str,
    "state": str,
    "message": str,
    "fix": (str, NONE),
    "as_of": (str, NONE),
    "period": (str, NONE),
    "collected_at": (str, NONE),
    "counts": dict,
}
SAVING_LINE = {"yearly_saving": dict, "count": int}


def _savings(body: dict[str, Any]) -> None:
    # The seed's disabled holders (every tenth user): E3 (30.00 EUR a month) 9, 19 and 29; the
    # unpriced E5 49 and 59. No usage collected: only account-state rules, and it says so.
    removed = {(r["user_principal_name"], r["sku_part_number"]) for r in body["recommendations"]}
    assert removed == {
        *((f"user{i:03d}@contoso.example", "ENTERPRISEPACK") for i in (9, 19, 29)),
        *((f"user{i:03d}@contoso.example", "ENTERPRISEPREMIUM") for i in (49, 59)),
    }
    assert {r["action"] for r in body["recommendations"]} == {"remove"}
    assert body["yearly_saving"] == {"EUR": "1080.00"}  # 3 x 30.00 x 12
    remove = {"action": "remove", "yearly_saving": {"EUR": "1080.00"}, "count": 5}
    assert body["by_action"] == [remove]
    assert body["by_product"] == [
        {"product": "Office 365 E3", "yearly_saving": {"EUR": "1080.00"}, "count": 3},
        {"product": "Office 365 E5", "yearly_saving": {}, "count": 2},
    ]
    assert body["unpriced"] == ["Office 365 E5"]
    [usage] = body["usage"]
    assert (usage["tenant"], usage["state"], usage["as_of"]) == ("contoso", "not_collected", None)


def _alerts(body: dict[str, Any]) -> None:
    assert body == {"rules": [], "log": []}  # none configured; tests/intelligence has real ones


PLAN_LINE = {
    "id": int, "position": int, "user_id": str, "user_principal_name": (str, NONE),
    "action": str, "sku_id": str, "target_sku_id": (str, NONE), "add_disabled_plans": [str],
    "prior_disabled_plans": [str], "reason": (str, NONE), "monthly_saving": (str, NONE),
    "yearly_saving": (str, NONE), "currency": (str, NONE), "state": str, "attempts": int,
    "request_id": (str, NONE), "error_code": (str, NONE), "error": (str, NONE),
    "applied_at": (str, NONE), "checked_at": (str, NONE), "undone_by_plan_id": (int, NONE),
}  # fmt: skip
PLAN = {
    "id": int, "tenant": str, "status": str, "source": str, "reverses_plan_id": (int, NONE),
    "created_by": str, "created_at": str, "approved_by": (str, NONE),
    "approved_at": (str, NONE), "applied_by": (str, NONE), "applied_at": (str, NONE),
    "finished_at": (str, NONE), "confirmed_at": (str, NONE), "four_eyes": bool,
    "writes_allowed": bool, "monthly_saving": str, "yearly_saving": str,
    "currency": (str, NONE), "counts": dict, "lines": [PLAN_LINE],
}  # fmt: skip


def _plans(body: list[dict[str, Any]]) -> None:
    assert [p["id"] for p in body] == [1]  # tests/web_seed.py: seed_plan
    assert body[0]["lines"] == []  # the list leaves lines to the plan's own route
    assert body[0]["counts"] == {"pending": 2}
    assert body[0]["monthly_saving"] == "72.00"
    assert body[0]["writes_allowed"] is False


def _plan(body: dict[str, Any]) -> None:
    assert body["status"] == "draft"
    assert body["tenant"] == "contoso"
    assert [line["user_id"] for line in body["lines"]] == [user_id(1), user_id(2)]
    assert {line["product"] for line in body["lines"]} == {"Office 365 E3"}
    assert body["lines"][0]["yearly_saving"] == "432.00"


@dataclass(frozen=True, slots=True)
class Case:
    route: str  # the path as the OpenAPI document names it
    url: str  # that route on the seeded data
    shape: Shape
    check: Callable[[Any], None]
    status: int = 200


P = f"/tenants/contoso/products/{E3}"
CASES = [
    Case("/api/v1/tenants", "/api/v1/tenants", [TENANT], _tenants),
    Case("/api/v1/tenants/{name}", "/api/v1/tenants/contoso", TENANT, _tenant),
    Case("/api/v1/balance", "/api/v1/balance", {"rows": [BALANCE_ROW], "totals": TOTALS}, _balance),
    Case(
        "/api/v1/tenants/{name}/products/{sku_id}",
        f"/api/v1{P}",
        {
            "balance": BALANCE_ROW,
            "service_plans": [
                {
                    "service_plan_id": str,
                    "service_plan_name": str,
                    "provisioning_status": (str, NONE),
                    "applies_to": (str, NONE),
                }
            ],
            "subscriptions": [SUBSCRIPTION],
            "history": [
                {
                    "captured_at": str,
                    "enabled": int,
                    "warning": int,
                    "suspended": int,
                    "consumed": int,
                }
            ],
        },
        _product,
    ),
    Case(
        "/api/v1/tenants/{name}/products/{sku_id}/holders",
        f"/api/v1{P}/holders?limit=100",
        page(HOLDER),
        _holders,
    ),
    Case("/api/v1/subscriptions", "/api/v1/subscriptions", [SUBSCRIPTION], _subscriptions),
    Case(
        "/api/v1/renewals/plan",
        "/api/v1/renewals/plan",
        {"plans": [RENEWAL_PLAN], "calendar": [MONTH]},
        _renewal_plan,
    ),
    Case("/api/v1/users", "/api/v1/users?limit=100", page(USER), _users),
    Case(
        "/api/v1/tenants/{name}/users/{user_id}",
        f"/api/v1/tenants/contoso/users/{user_id(0)}",
        {
            "user": USER,
            "created_at": (str, NONE),
            "usage_location": (str, NONE),
            "company_name": (str, NONE),
            "employee_id": (str, NONE),
            "on_premises_sync_enabled": (bool, NONE),
            "last_sign_in_at": (str, NONE),
            "licences": [USER_LICENCE],
        },
        _user,
    ),
    Case("/api/v1/sync-runs", "/api/v1/sync-runs", page(RUN), _runs),
    Case("/api/v1/changes", "/api/v1/changes", page(CHANGE), _changes),
    Case(
        "/api/v1/findings",
        "/api/v1/findings",
        [
            {
                "rule": str,
                "title": str,
                "tenant": str,
                "count": int,
                "subject": str,
                "monthly_cost": (MONEY, NONE),
                "fix": str,
                "unavailable": (str, NONE),
                "affected": [
                    {
                        "key": str,
                        "name": str,
                        "detail": str,
                        "products": [str],
                        "units": (int, NONE),
                        "cost": MONEY,
                    }
                ],
                "next_cursor": (str, NONE),  # the next page of `affected` (keyset), or None
            }
        ],
        _findings,
    ),
    Case(
        "/api/v1/costs",
        "/api/v1/costs",
        [
            {
                "tenant": str,
                "purchased": MONEY,
                "assigned": MONEY,
                "unassigned": MONEY,
                "products": [
                    {
                        "sku_id": str,
                        "name": str,
                        "purchased": int,
                        "assigned": int,
                        "unassigned": int,
                        "price": str,
                        "purchased_cost": MONEY,
                        "assigned_cost": MONEY,
                        "unassigned_cost": MONEY,
                    }
                ],
                "breakdowns": {
                    "department": list,
                    "country": list,
                    "company_name": list,
                    "cost_center": list,
                },
            }
        ],
        _costs,
    ),
    Case(
        "/api/v1/catalog",
        "/api/v1/catalog",
        [{"sku_id": str, "part_number": str, "name": str, "source": str, "tenants": [str]}],
        _catalog,
    ),
    Case(
        "/api/v1/prices",
        "/api/v1/prices",
        [{"sku_id": str, "part_number": str, "amount": str, "currency": str, "term": str}],
        _prices,
    ),
    Case(
        "/api/v1/savings",
        "/api/v1/savings",
        {
            "yearly_saving": dict,
            "count": int,
            "users": int,
            "by_action": [{"action": str, **SAVING_LINE}],
            "by_product": [{"product": str, **SAVING_LINE}],
            "unpriced": [str],
            "usage": [USAGE_STATE],
            "recommendations": [RECOMMENDATION],
            "next_cursor": (str, NONE),
        },
        _savings,
    ),
    Case("/api/v1/alerts", "/api/v1/alerts", {"rules": [ANY], "log": [ANY]}, _alerts),
    Case("/api/v1/recommendations", "/api/v1/recommendations", [RECOMMENDATION], _recommendations),
    Case(
        "/api/v1/usage",
        "/api/v1/usage?tenant=contoso",
        [USAGE_STATE],
        _usage,
    ),
    Case(
        "/api/v1/audit",
        "/api/v1/audit",
        [
            {
                "at": str,
                "actor": (str, NONE),
                "address": (str, NONE),
                "action": str,
                "outcome": str,
                "detail": (str, NONE),
            }
        ],
        _audit,
    ),
    Case("/api/v1/plans", "/api/v1/plans", [PLAN], _plans),
    Case(
        "/api/v1/plans/{plan_id}",
        "/api/v1/plans/1",
        {**PLAN, "lines": [{**PLAN_LINE, "product": str, "target_product": (str, NONE)}]},
        _plan,
    ),
]


def mismatches(value: Any, shape: Shape, where: str = "$") -> Iterator[str]:
    """Where a JSON value departs from a shape (empty when it fits)."""
    if shape is ANY:
        return
    if isinstance(shape, tuple):
        if not any(not list(mismatches(value, option, where)) for option in shape):
            yield f"{where}: {value!r} fits none of {shape}"
    elif isinstance(shape, dict):
        if not isinstance(value, dict):
            yield f"{where}: an object expected, got {value!r}"
            return
        if set(value) != set(shape):
            extra, missing = sorted(set(value) - set(shape)), sorted(set(shape) - set(value))
            yield f"{where}: keys differ: extra {extra}, missing {missing}"
        for key in set(value) & set(shape):
            yield from mismatches(value[key], shape[key], f"{where}.{key}")
    elif isinstance(shape, list):
        if not isinstance(value, list):
            yield f"{where}: a list expected, got {value!r}"
            return
        for index, item in enumerate(value):
            yield from mismatches(item, shape[0], f"{where}[{index}]")
    elif shape is float:
        if not isinstance(value, float):
            yield f"{where}: a number expected, got {value!r}"
    elif not isinstance(value, shape) or (shape is int and isinstance(value, bool)):
        yield f"{where}: {shape.__name__} expected, got {value!r}"


@pytest.fixture(scope="module")
def api(web: WebEnv) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {web.admin_token}"}
    with httpx.Client(base_url=web.base_url, headers=headers) as client:
        # One price, so that prices and costs have money to show.
        priced = client.put(
            f"/api/v1/prices/{E3}", json={"amount": "30.00", "currency": "EUR", "term": "monthly"}
        )
        assert priced.status_code == 200, priced.text
        yield client


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.route)
def test_route_content(api: httpx.Client, case: Case) -> None:
    response = api.get(case.url)
    assert response.status_code == case.status, response.text
    assert response.headers["content-type"] == "application/json"
    assert SECRET_VALUE not in response.text
    body = response.json()
    assert list(mismatches(body, case.shape)) == []
    case.check(body)


def test_every_get_route_has_a_case(web: WebEnv) -> None:
    paths: dict[str, dict[str, Any]] = web.app.openapi()["paths"]
    routes = {path for path, operations in paths.items() if path.startswith("/api/v1/")}
    get_routes = {path for path in routes if "get" in paths[path]}
    assert sorted(get_routes - {case.route for case in CASES}) == []
    assert sorted({case.route for case in CASES} - get_routes) == []  # no stale entry


def test_the_shape_checker() -> None:
    assert list(mismatches({"a": 1, "b": [1, "x"]}, {"a": int, "b": [int]})) == [
        "$.b[1]: int expected, got 'x'"
    ]
    assert list(mismatches({"a": True}, {"a": int})) == ["$.a: int expected, got True"]
    assert len(list(mismatches({"a": 1, "c": 2}, {"a": int}))) == 1
    assert list(mismatches({"a": None}, {"a": (int, NONE)})) == []
