"""Graph emulator: tokens, permissions, signInActivity rules, SKUs, subscriptions and groups."""

from __future__ import annotations

import pytest
from test_graph_helpers import E3, E5, READER_ROLES, make_env, make_tenant

WWW_AUTHENTICATE = (
    'Bearer realm="", '
    'authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", '
    'client_id="00000003-0000-0000-c000-000000000000"'
)
ENDPOINTS = {
    "/v1.0/users": {"User.Read.All", "User.ReadWrite.All", "Directory.Read.All"},
    "/v1.0/subscribedSkus": {
        "LicenseAssignment.Read.All",
        "Organization.Read.All",
        "Directory.Read.All",
    },
    "/v1.0/directory/subscriptions": {"Organization.Read.All", "Directory.Read.All"},
    "/v1.0/groups": {"Group.Read.All", "Directory.Read.All"},
    "/v1.0/organization": {"Organization.Read.All", "Directory.Read.All", "User.Read.All"},
}
AUDIT = frozenset({"User.Read.All", "AuditLog.Read.All"})


@pytest.mark.parametrize(
    ("authorization", "message"),
    [
        (None, "Access token is empty."),
        ("Bearer ", "Access token is empty."),
        ("Bearer not-a-jwt", "CompactToken parsing failed with error code: 80049217"),
    ],
)
def test_bad_tokens_get_401(authorization: str | None, message: str) -> None:
    env = make_env(make_tenant(3))
    headers = {"Authorization": authorization} if authorization else {}
    response = env.client.get("/v1.0/users", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == WWW_AUTHENTICATE
    assert response.json()["error"]["code"] == "InvalidAuthenticationToken"
    assert response.json()["error"]["message"] == message


def test_token_of_an_unknown_tenant_gets_401() -> None:
    env = make_env(make_tenant(3))
    stranger = make_tenant(1, name="fabrikam")  # never added to the world
    token = env.token(READER_ROLES, tenant=stranger)
    response = env.client.get("/v1.0/users", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


@pytest.mark.parametrize("path", sorted(ENDPOINTS))
def test_each_endpoint_accepts_exactly_its_roles(path: str) -> None:
    env = make_env(make_tenant(3))
    for role in sorted(ENDPOINTS[path]):
        assert env.get(path, roles=frozenset({role})).status_code == 200, role
    for roles in (frozenset(), frozenset({"Mail.Read"})):
        response = env.get(path, roles=roles)
        assert response.status_code == 403
        error = response.json()["error"]
        assert error["code"] == "Authorization_RequestDenied"
        assert error["message"] == "Insufficient privileges to complete the operation."
        assert set(error["innerError"]) == {"date", "request-id", "client-request-id"}


def test_sign_in_activity_needs_audit_log_permission_and_premium() -> None:
    env = make_env(make_tenant(20))
    missing = env.get("/v1.0/users?$select=id,signInActivity")
    assert missing.status_code == 403
    assert missing.json()["error"]["code"] == "Authentication_MSGraphPermissionMissing"
    assert missing.json()["error"]["message"] == (
        "Calling principal does not have required MSGraph permissions AuditLog.Read.All"
    )
    ok = env.get("/v1.0/users?$select=id,signInActivity", roles=AUDIT)
    assert ok.status_code == 200
    signed = [u for u in ok.json()["value"] if u.get("signInActivity")]
    assert signed
    assert signed[0]["signInActivity"]["lastSignInDateTime"].endswith("Z")
    assert env.get("/v1.0/users?$select=signInActivity&$top=500", roles=AUDIT).status_code == 200
    too_many = env.get("/v1.0/users?$select=signInActivity&$top=501", roles=AUDIT)
    assert too_many.status_code == 400
    assert "between 1 and 500" in too_many.json()["error"]["message"]
    basic = make_env(make_tenant(5, premium=False))
    refused = basic.get("/v1.0/users?$select=signInActivity", roles=AUDIT)
    assert refused.status_code == 403
    assert refused.json()["error"] == {
        **refused.json()["error"],
        "code": "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
        "message": "Neither tenant is B2C or tenant doesn't have premium license",
    }


def test_subscribed_skus_follow_the_tenant() -> None:
    env = make_env(make_tenant(40))
    tenant = env.tenant
    body = env.get("/v1.0/subscribedSkus").json()
    by_sku = {item["skuId"]: item for item in body["value"]}
    assert set(by_sku) == {E3, E5}
    consumed = tenant.consumed_units()
    for sku, item in by_sku.items():
        assert item["id"] == f"{tenant.tenant_id}_{sku}"
        assert item["accountId"] == tenant.tenant_id
        assert item["consumedUnits"] == consumed[sku]
        assert item["prepaidUnits"] == tenant.prepaid_units(sku)
        assert item["capabilityStatus"] == tenant.capability_status(sku)
    assert by_sku[E5]["capabilityStatus"] == "Warning"
    teams = [p for p in by_sku[E5]["servicePlans"] if p["servicePlanName"] == "TEAMS1"]
    assert teams[0]["servicePlanType"] == "Teams"
    one = env.get(f"/v1.0/subscribedSkus/{tenant.tenant_id}_{E3}?$select=skuPartNumber").json()
    assert one["skuPartNumber"] == "ENTERPRISEPACK"
    assert "consumedUnits" not in one
    assert env.get(f"/v1.0/subscribedSkus/{tenant.tenant_id}_{E3[::-1]}").status_code == 404
    assert env.get("/v1.0/subscribedSkus?$filter=skuId eq 'x'").status_code == 400


def test_subscriptions_and_organization() -> None:
    env = make_env(make_tenant(3))
    subs = env.get("/v1.0/directory/subscriptions").json()["value"]
    assert [(s["skuId"], s["status"], s["totalLicenses"]) for s in subs] == [
        (E3, "Enabled", 25),
        (E5, "Warning", 10),
    ]
    assert subs[0]["skuPartNumber"] == "ENTERPRISEPACK"
    one = env.get(f"/v1.0/directory/subscriptions/{subs[1]['id']}").json()
    assert one["commerceSubscriptionId"] == subs[1]["commerceSubscriptionId"]
    org = env.get("/v1.0/organization").json()["value"][0]
    assert org["id"] == env.tenant.tenant_id
    assert org["verifiedDomains"][0]["name"] == env.tenant.domain


def test_groups_with_licences() -> None:
    env = make_env(make_tenant(3))
    plain = env.get("/v1.0/groups").json()["value"]
    assert len(plain) == 2
    assert "assignedLicenses" not in plain[0]
    selected = env.get("/v1.0/groups?$select=id,assignedLicenses,licenseProcessingState").json()
    licensed = [g for g in selected["value"] if g["assignedLicenses"]]
    assert len(licensed) == 1
    assert licensed[0]["assignedLicenses"][0]["skuId"] == E5
    assert licensed[0]["licenseProcessingState"] == {"state": "ProcessingComplete"}
    flt = "$filter=assignedLicenses/$count ne 0&$count=true"
    assert env.get(f"/v1.0/groups?{flt}").status_code == 400
    advanced = env.get(f"/v1.0/groups?{flt}", headers={"ConsistencyLevel": "eventual"}).json()
    assert advanced["@odata.count"] == 1
    by_sku = env.get(f"/v1.0/groups?$filter=assignedLicenses/any(x:x/skuId eq {E5})").json()
    assert [g["id"] for g in by_sku["value"]] == [licensed[0]["id"]]


def test_unknown_segment_is_400() -> None:
    response = make_env(make_tenant(1)).get("/v1.0/shoes")
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Resource not found for the segment 'shoes'."
