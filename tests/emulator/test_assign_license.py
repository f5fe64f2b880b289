"""POST /users/{id}/assignLicense: Microsoft's validation, errors, permissions, seats and delta."""

from __future__ import annotations

from typing import Any

import httpx
from test_graph_helpers import E3, E5, READER_ROLES, TEAMS, Env, make_env, make_tenant

from licensewatch.emulator.state import Product, ServicePlan, Subscription, Tenant, User
from licensewatch.emulator.truth import ground_truth

WRITER = frozenset({"LicenseAssignment.ReadWrite.All"})
BASIC = "3b555118-da6a-4418-894f-7df1e2096870"
EXCHANGE_PLAN_1 = "9aaf7827-d63c-4b61-89c3-182f06f82e5c"
DEFENDER = "4ef96642-f096-40de-a3e9-d83fb2f90211"
ATP = "f20fedf3-f3c3-43c3-8267-2bfdd51c0939"


def _env() -> Env:
    tenant = make_tenant(12)
    tenant.products[BASIC] = Product(
        BASIC, "O365_BUSINESS_ESSENTIALS", "Business Basic",
        (ServicePlan(EXCHANGE_PLAN_1, "EXCHANGE_S_STANDARD"), ServicePlan(TEAMS, "TEAMS1")),
    )  # fmt: skip
    tenant.products[DEFENDER] = Product(
        DEFENDER, "ATP_ENTERPRISE", "Defender for Office 365 (Plan 1)",
        (ServicePlan(ATP, "ATP_ENTERPRISE"),),
    )  # fmt: skip
    now = tenant.subscriptions[0].created
    for n, sku in enumerate((BASIC, DEFENDER), 5):
        tenant.subscriptions.append(
            Subscription(f"sub-{n}", f"c-{n}", sku, "Enabled", 5, False, now, None)
        )
    for _, user in tenant.iter_users_from(0):
        user.usage_location = "GB"
    return make_env(tenant)


def _post(env: Env, user: str, body: Any, roles: frozenset[str] = WRITER) -> httpx.Response:
    headers = {"Authorization": f"Bearer {env.token(roles)}"}
    return env.client.post(f"/v1.0/users/{user}/assignLicense", json=body, headers=headers)


def _body(
    add: tuple[tuple[str, list[str]], ...] = (), remove: tuple[str, ...] = ()
) -> dict[str, Any]:
    return {
        "addLicenses": [{"skuId": sku, "disabledPlans": plans} for sku, plans in add],
        "removeLicenses": list(remove),
    }


def _user(tenant: Tenant, direct: str | None = None, *, free: bool = False) -> User:
    for _, user in tenant.iter_users_from(0):
        skus = {a.sku_id for a in user.assignments if a.assigned_by_group is None}
        if (direct and direct in skus) or (free and not user.assignments):
            return user
    raise AssertionError("no such user")


def _error(response: httpx.Response, status: int = 400) -> str:
    assert response.status_code == status, response.text
    assert response.headers["request-id"]
    error = response.json()["error"]
    assert error["innerError"]["request-id"] == response.headers["request-id"]
    message: str = error["message"]
    return message


def test_read_roles_get_403_and_the_write_role_works() -> None:
    env = _env()
    user = _user(env.tenant, free=True)
    denied = _post(env, user.id, _body(((E3, []),)), READER_ROLES)
    assert _error(denied, 403) == "Insufficient privileges to complete the operation."
    assert denied.json()["error"]["code"] == "Authorization_RequestDenied"
    assert not user.assignments
    for role in ("LicenseAssignment.ReadWrite.All", "User.ReadWrite.All"):
        response = _post(env, user.id, _body(((E3, []),)), frozenset({role}))
        assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == user.id
    assert body["assignedLicenses"] == [{"disabledPlans": [], "skuId": E3}]


def test_both_lists_are_required_and_guids_checked() -> None:
    env = _env()
    user = _user(env.tenant, free=True)
    missing = _error(_post(env, user.id, {"addLicenses": []}))
    assert missing.endswith("The missing parameters are: removeLicenses.")
    assert "skuId" in _error(_post(env, user.id, _body((("not-a-guid", []),))))
    unknown = "00000000-0000-4000-8000-000000000000"
    assert "does not correspond to a valid company License" in _error(
        _post(env, user.id, _body(((unknown, []),)))
    )
    assert "is not part of license" in _error(_post(env, user.id, _body(((E3, [TEAMS]),))))
    assert _post(env, "nobody@contoso.onmicrosoft.com", _body()).status_code == 404


def test_usage_location_is_needed_to_add() -> None:
    env = _env()
    user = _user(env.tenant, free=True)
    user.usage_location = None
    message = _error(_post(env, user.id, _body(((E3, []),))))
    assert message == "License assignment cannot be done for user with invalid usage location."


def test_a_group_licence_cannot_be_removed_from_the_user() -> None:
    env = _env()
    member = next(u for _, u in env.tenant.iter_users_from(0)
                  if any(a.assigned_by_group for a in u.assignments))  # fmt: skip
    message = _error(_post(env, member.id, _body(remove=(E5,))))
    assert "inherited from a group membership" in message
    holder = _user(env.tenant, free=True)
    assert _error(_post(env, holder.id, _body(remove=(E3,)))) == (
        "User does not have a corresponding license."
    )


def test_seats_are_counted_and_a_swap_frees_one() -> None:
    env = _env()
    tenant = env.tenant
    basic = next(s for s in tenant.subscriptions if s.sku_id == BASIC)
    basic.total_licenses = 0
    holder = _user(tenant, E3)
    full = _error(_post(env, holder.id, _body(((BASIC, []),), (E3,))))
    assert full == "Subscription for O365_BUSINESS_ESSENTIALS has no more available licenses."
    basic.total_licenses = 1
    before = ground_truth(tenant)
    response = _post(env, holder.id, _body(((BASIC, [TEAMS]),), (E3,)))
    assert response.status_code == 200, response.text
    assert response.json()["assignedLicenses"] == [{"disabledPlans": [TEAMS], "skuId": BASIC}]
    after = {s["sku_id"]: s["consumed"] for s in ground_truth(tenant)["skus"]}
    old = {s["sku_id"]: s["consumed"] for s in before["skus"]}
    assert after[E3] == old[E3] - 1
    assert after[BASIC] == old[BASIC] + 1
    consumed = {
        sku["skuId"]: sku["consumedUnits"]
        for sku in env.get("/v1.0/subscribedSkus").json()["value"]
    }
    assert consumed[BASIC] == after[BASIC]


def test_mutually_exclusive_and_dependent_plans_are_refused() -> None:
    env = _env()
    holder = _user(env.tenant, E3)  # E3 enables Exchange Online (Plan 2)
    exclusive = _error(_post(env, holder.id, _body(((BASIC, []),))))
    assert exclusive == (
        "License assignment failed because service plans EXCHANGE_S_ENTERPRISE,"
        "EXCHANGE_S_STANDARD are mutually exclusive."
    )
    fine = _post(env, holder.id, _body(((BASIC, [EXCHANGE_PLAN_1]),)))  # Plan 1 switched off
    assert fine.status_code == 200, fine.text
    loner = _user(env.tenant, free=True)
    dependent = _error(_post(env, loner.id, _body(((DEFENDER, []),))))
    assert "service plan ATP_ENTERPRISE depends on the service plan(s)" in dependent
    assert _post(env, holder.id, _body(((DEFENDER, []),))).status_code == 200
    # Taking Exchange away would leave Defender without it.
    assert "depends on" in _error(_post(env, holder.id, _body(remove=(E3, BASIC))))
    assert {a.sku_id for a in holder.assignments} == {E3, BASIC, DEFENDER}


def test_delta_sees_the_change() -> None:
    env = _env()
    first = env.get("/v1.0/users/delta?$select=id,assignedLicenses&$deltatoken=latest").json()
    link = first["@odata.deltaLink"]
    holder = _user(env.tenant, E3)
    assert _post(env, holder.id, _body(remove=(E3,))).status_code == 200
    changed = env.get(link).json()["value"]
    assert [u["id"] for u in changed] == [holder.id]
    assert changed[0]["assignedLicenses"] == []
