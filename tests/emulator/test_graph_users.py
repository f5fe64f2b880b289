"""Graph emulator /users: paging, $top, $select, $filter, $count, one user and licenseDetails."""

from __future__ import annotations

import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_graph_helpers import E3, E5, ITAM_SELECT, Env, all_values, make_env, make_tenant

EVENTUAL = {"ConsistencyLevel": "eventual"}
ODATA_JSON = ";".join(
    [
        "application/json",
        "odata.metadata=minimal",
        "odata.streaming=true",
        "IEEE754Compatible=false",
        "charset=utf-8",
    ]
)

_ENV: Env | None = None


def shared_env() -> Env:
    """One read-only 120-user environment for the many read-only tests (hypothesis included)."""
    global _ENV  # a module cache: hypothesis examples cannot take function-scoped fixtures
    if _ENV is None:
        _ENV = make_env(make_tenant(120))
    return _ENV


def all_ids(env: Env) -> list[str]:
    return [user.id for _, user in env.tenant.iter_users_from(0)]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(top=st.one_of(st.sampled_from([1, 2, 7, 100, 119, 120, 121, 999]), st.integers(1, 999)))
def test_paging_has_no_gaps_or_duplicates(top: int) -> None:
    env = shared_env()
    pages = list(env.pages(f"/v1.0/users?$select=id&$top={top}"))
    ids = [user["id"] for page in pages for user in page["value"]]
    assert ids == all_ids(env)
    assert all(len(page["value"]) == top for page in pages[:-1])
    assert "@odata.nextLink" not in pages[-1]
    assert all(page["value"] for page in pages)  # never an empty trailing page


def test_default_page_is_100_and_next_links_are_absolute() -> None:
    env = shared_env()
    page = env.get("/v1.0/users").json()
    assert len(page["value"]) == 100
    assert page["@odata.nextLink"].startswith("https://graph.test/v1.0/users?")
    assert "$skiptoken=" in page["@odata.nextLink"]
    assert page["@odata.context"] == "https://graph.test/v1.0/$metadata#users"


@pytest.mark.parametrize("top", ["0", "1000", "-1", "abc"])
def test_top_outside_1_to_999_is_refused(top: str) -> None:
    response = shared_env().get(f"/v1.0/users?$top={top}")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "Request_UnsupportedQuery"
    assert error["message"] == (
        f"Invalid page size specified: '{top}'. Must be between 1 and 999 inclusive."
    )


def test_skiptoken_of_another_query_or_garbage_is_refused() -> None:
    env = shared_env()
    link = env.get("/v1.0/users?$top=5&$select=id").json()["@odata.nextLink"]
    token = link.split("$skiptoken=")[1]
    assert env.get(f"/v1.0/users?$top=6&$select=id&$skiptoken={token}").status_code == 400
    assert env.get("/v1.0/users?$skiptoken=garbage").status_code == 400


def test_default_select_set_and_explicit_select() -> None:
    env = shared_env()
    user = env.get("/v1.0/users?$top=1").json()["value"][0]
    assert set(user) == {
        "businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone",
        "officeLocation", "preferredLanguage", "surname", "userPrincipalName", "id",
    }  # fmt: skip
    page = env.get(f"/v1.0/users?$top=1&$select={ITAM_SELECT}").json()
    assert set(page["value"][0]) == set(ITAM_SELECT.split(","))
    assert page["@odata.context"].endswith(f"#users({ITAM_SELECT})")
    only = env.get("/v1.0/users?$top=1&$select=USERPRINCIPALNAME").json()["value"][0]
    assert list(only) == ["userPrincipalName"]


def test_unknown_select_property_is_400() -> None:
    response = shared_env().get("/v1.0/users?$select=id,shoeSize")
    assert response.status_code == 400
    assert "shoeSize" in response.json()["error"]["message"]


def test_licence_properties_are_faithful() -> None:
    env = shared_env()
    users = all_values(env, "/v1.0/users?$select=id,assignedLicenses,licenseAssignmentStates")
    by_id = {u["id"]: u for u in users}
    for _, model in env.tenant.iter_users_from(0):
        served = by_id[model.id]
        assert [a["skuId"] for a in served["assignedLicenses"]] == model.assigned_sku_ids()
        assert len(served["licenseAssignmentStates"]) == len(model.assignments)
        for state in served["licenseAssignmentStates"]:
            assert state["error"] == "None"
            assert state["lastUpdatedDateTime"].endswith("Z")


def ids_for(
    env: Env, flt: str, headers: dict[str, str] | None = None, count: bool = False
) -> set[str]:
    suffix = "&$count=true" if count else ""
    return {
        u["id"] for u in all_values(env, f"/v1.0/users?$select=id&$filter={flt}{suffix}", headers)
    }


def expected(env: Env, keep: object) -> set[str]:
    assert callable(keep)
    return {u.id for _, u in env.tenant.iter_users_from(0) if keep(u)}


def test_default_filters() -> None:
    env = shared_env()
    assert ids_for(env, "accountEnabled eq false") == expected(env, lambda u: not u.account_enabled)
    assert ids_for(env, "userType eq 'guest'") == expected(env, lambda u: u.user_type == "Guest")
    assert ids_for(env, f"assignedLicenses/any(x:x/skuId eq {E5})") == expected(
        env, lambda u: E5 in u.assigned_sku_ids()
    )
    assert ids_for(env, "startswith(userPrincipalName,'ÆRØ')") == expected(
        env, lambda u: u.user_principal_name.startswith("Ærø")
    )
    both = f"accountEnabled eq true and assignedLicenses/any(s:s/skuId eq {E3})"
    assert ids_for(env, both) == expected(
        env, lambda u: u.account_enabled and E3 in u.assigned_sku_ids()
    )


@pytest.mark.parametrize(
    "flt",
    [
        "assignedLicenses/$count ne 0",
        "assignedLicenses/$count eq 0",
        "userPrincipalName ge 'm'",
        "userPrincipalName le 'm'",
        "accountEnabled ne true",
    ],
)
def test_advanced_filters_need_header_and_count(flt: str) -> None:
    env = shared_env()
    for headers, count in ((None, True), (EVENTUAL, False), (None, False)):
        response = env.get(
            f"/v1.0/users?$filter={flt}" + ("&$count=true" if count else ""), headers=headers
        )
        assert response.status_code == 400
        assert response.json()["error"] == {
            **response.json()["error"],
            "code": "Request_UnsupportedQuery",
            "message": "Unsupported Query.",
        }
    assert env.get(f"/v1.0/users?$filter={flt}&$count=true", headers=EVENTUAL).status_code == 200


def test_licensed_and_unlicensed_partition_the_tenant() -> None:
    env = shared_env()
    licensed = ids_for(env, "assignedLicenses/$count ne 0", EVENTUAL, count=True)
    unlicensed = ids_for(env, "assignedLicenses/$count eq 0", EVENTUAL, count=True)
    assert licensed == expected(env, lambda u: bool(u.assigned_sku_ids()))
    assert licensed | unlicensed == set(all_ids(env))
    assert not licensed & unlicensed


@pytest.mark.parametrize(
    "bounds",
    [["m"], ["0", "9", "_", "a", "z"], list(string.ascii_lowercase[::3]), ["é", "ñ", "ω", "ß"]],
)
def test_upn_range_shards_union_is_the_whole_tenant(bounds: list[str]) -> None:
    env = shared_env()
    union: set[str] = set()
    edges = sorted(b.casefold() for b in bounds)
    union |= ids_for(env, f"userPrincipalName le '{edges[0]}'", EVENTUAL, count=True)
    for low, high in zip(edges, [*edges[1:], None], strict=True):
        flt = f"userPrincipalName ge '{low}'" + (
            f" and userPrincipalName le '{high}'" if high else ""
        )
        union |= ids_for(env, flt, EVENTUAL, count=True)
    assert union == set(all_ids(env))


def test_unsupported_filters_are_400() -> None:
    env = shared_env()
    for flt in ("endswith(mail,'x')", "shoeSize eq 3", "displayName eq", "department gt 'a'"):
        assert env.get(f"/v1.0/users?$filter={flt}").status_code == 400, flt


def test_count_rules() -> None:
    env = shared_env()
    total = env.tenant.user_count()
    first = env.get("/v1.0/users?$count=true&$top=50", headers=EVENTUAL).json()
    assert first["@odata.count"] == total
    second = env.get(first["@odata.nextLink"], headers=EVENTUAL).json()
    assert "@odata.count" not in second
    assert "@odata.count" not in env.get("/v1.0/users?$count=true&$top=5").json()
    plain = env.get("/v1.0/users/$count", headers=EVENTUAL)
    assert (plain.status_code, plain.text) == (200, str(total))
    assert plain.headers["content-type"].startswith("text/plain")
    without = env.get("/v1.0/users/$count")
    assert without.status_code == 400
    assert without.json()["error"]["message"] == "$count is not currently supported."
    as_json = env.get("/v1.0/users/$count", headers={**EVENTUAL, "Accept": "application/json"})
    assert as_json.status_code == 415
    guests = env.get("/v1.0/users/$count?$filter=userType eq 'Guest'", headers=EVENTUAL)
    assert int(guests.text) == len(expected(env, lambda u: u.user_type == "Guest"))


def test_graph_headers_and_request_ids() -> None:
    env = shared_env()
    response = env.get("/v1.0/users?$top=50", headers={"client-request-id": "my-id"})
    assert response.headers["content-type"] == ODATA_JSON
    assert response.headers["client-request-id"] == "my-id"
    assert response.headers["request-id"] != "my-id"
    assert "ServerInfo" in response.headers["x-ms-ags-diagnostic"]
    assert response.headers["x-ms-resource-unit"] == "2"
    error = env.get("/v1.0/users/nobody@nowhere")
    assert error.status_code == 404
    inner = error.json()["error"]["innerError"]
    assert inner["request-id"] == inner["client-request-id"] == error.headers["request-id"]
    assert len(inner["date"]) == 19  # no zone suffix


def test_one_user_by_id_or_upn() -> None:
    env = shared_env()
    model = next(u for _, u in env.tenant.iter_users_from(0) if "#EXT#" in u.user_principal_name)
    by_id = env.get(f"/v1.0/users/{model.id}?$select=id,userType").json()
    assert by_id["userType"] == "Guest"
    assert by_id["@odata.context"].endswith("#users(id,userType)/$entity")
    upn = model.user_principal_name.replace("#", "%23").upper()
    assert env.get(f"/v1.0/users/{upn}").json()["id"] == model.id
    missing = env.get("/v1.0/users/00000000-0000-0000-0000-000000000000").json()["error"]
    assert missing["code"] == "Request_ResourceNotFound"


@pytest.mark.parametrize("app_only", [True, False])
def test_license_details_is_configurable(app_only: bool) -> None:
    env = make_env(make_tenant(5), license_details_app_only=app_only)
    model = next(u for _, u in env.tenant.iter_users_from(0) if u.assignments)
    response = env.get(f"/v1.0/users/{model.id}/licenseDetails")
    if not app_only:
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "Authorization_RequestDenied"
        return
    details = response.json()["value"]
    assert [d["skuId"] for d in details] == model.assigned_sku_ids()
    assert all(d["servicePlans"] and d["skuPartNumber"] for d in details)
