"""Mutations and the /_emulator control API: results, errors, change log and ground truth."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from starlette.applications import Starlette

from licensewatch.emulator import mutations
from licensewatch.emulator.control import OPS, control_routes
from licensewatch.emulator.faults import FaultInjector
from licensewatch.emulator.options import EmulatorOptions
from licensewatch.emulator.seed import build_world
from licensewatch.emulator.state import Tenant, World, utcnow
from licensewatch.emulator.tokens import TokenIssuer


@pytest.fixture(scope="module")
def cert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("certs")


@pytest.fixture
def world(cert_dir: Path) -> World:
    return build_world(users=40, seed=31, scenario="messy", cert_dir=cert_dir)


@pytest.fixture
def tenant(world: World) -> Tenant:
    return next(iter(world.tenants.values()))


@pytest.fixture
def injector() -> FaultInjector:
    return FaultInjector(EmulatorOptions())


class InProcess(httpx.BaseTransport):
    """A synchronous transport into the ASGI app (starlette's httpx.Client warns about httpx)."""

    def __init__(self, app: Starlette) -> None:
        self.inner = httpx.ASGITransport(app=app)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        async def run() -> httpx.Response:
            response = await self.inner.handle_async_request(request)
            body = await response.aread()
            return httpx.Response(response.status_code, headers=response.headers, content=body)

        return anyio.run(run)


@pytest.fixture
def client(world: World, injector: FaultInjector) -> Iterator[httpx.Client]:
    app = Starlette(routes=control_routes(world, TokenIssuer(world), injector))
    with httpx.Client(transport=InProcess(app), base_url="http://emulator.test") as http:
        yield http


def mutate(client: httpx.Client, tenant: Tenant, **body: Any) -> Any:
    response = client.post(f"/_emulator/tenants/{tenant.tenant_id}/mutations", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def refused(client: httpx.Client, tenant: Tenant, expected: int, body: dict[str, Any]) -> str:
    response = client.post(f"/_emulator/tenants/{tenant.tenant_id}/mutations", json=body)
    assert response.status_code == expected, response.text
    message: str = response.json()["error"]["message"]
    return message


def sku_truth(client: httpx.Client, tenant: Tenant, part: str) -> Any:
    truth = client.get(f"/_emulator/tenants/{tenant.domain}/truth").json()
    return next(s for s in truth["skus"] if s["sku_part_number"] == part)


# ---- mutations directly
def test_every_mutation_is_logged_for_delta(tenant: Tenant) -> None:
    before = tenant.version
    user = mutations.hire(tenant, {"givenName": "Zoë", "surname": "Ødegård"}, ["FLOW_FREE"])
    assert user.user_principal_name == f"zoë.ødegård@{tenant.domain}"
    assert tenant.version > before
    assert tenant.changed_since(before) == [user.id]
    mark = tenant.version
    mutations.update(
        tenant, user.id, {"department": "Legal", "userPrincipalName": f"z@{tenant.domain}"}
    )
    mutations.set_enabled(tenant, f"z@{tenant.domain}", False)
    assert tenant.user(f"zoë.ødegård@{tenant.domain}") is None
    assert tenant.user(f"Z@{tenant.domain.upper()}") is user
    assert user.department == "Legal"
    assert not user.account_enabled
    assert tenant.changed_since(mark) == [user.id]
    assert tenant.version >= mark + 3
    mark = tenant.version
    mutations.delete(tenant, user.id)
    assert tenant.deleted_user(user.id)
    assert tenant.changed_since(mark) == [user.id]


def test_guest_hire_gets_an_ext_upn(tenant: Tenant) -> None:
    guest = mutations.hire(
        tenant, {"displayName": "Jane Doe", "userType": "Guest", "mail": "jane@contoso.com"}
    )
    assert guest.user_principal_name == f"jane_contoso.com#EXT#@{tenant.domain}"
    assert guest.mail == "jane@contoso.com"


def test_assignment_needs_a_free_unit(tenant: Tenant) -> None:
    newcomer = mutations.hire(tenant, {"displayName": "New Person"})
    with pytest.raises(ValueError, match="no more available licenses"):
        mutations.assign(tenant, newcomer.id, "SPE_E3")  # messy over-assigns SPE_E3
    mutations.assign(tenant, newcomer.id, "SPE_E3", ["TEAMS1"], force=True)
    sku = mutations.resolve_sku(tenant, "spe_e3").sku_id
    teams = next(p.plan_id for p in tenant.products[sku].service_plans if p.name == "TEAMS1")
    assert newcomer.disabled_plans_for(sku) == (teams,)
    mutations.unassign(tenant, newcomer.id, sku)
    assert sku not in newcomer.assigned_sku_ids()


def test_group_membership_inherits_or_fails_with_count_violation(tenant: Tenant) -> None:
    newcomer = mutations.hire(tenant, {"displayName": "Group Person"})
    (error,) = mutations.add_member(tenant, "lic-m365-e3", newcomer.id)
    assert (error.state, error.error) == ("Error", "CountViolation")
    mutations.remove_member(tenant, "LIC-M365-E3", newcomer.id)
    assert newcomer.assignments == []
    sub = mutations.set_units(tenant, "SPE_E3", 10_000)
    assert sub.total_licenses == 10_000
    (ok,) = mutations.add_member(tenant, "LIC-M365-E3", newcomer.id)
    assert (ok.state, ok.error) == ("Active", "None")
    assert ok.sku_id in newcomer.assigned_sku_ids()


# ---- control API
def test_tenants_listing_hides_secret_values_unless_asked(
    client: httpx.Client, tenant: Tenant
) -> None:
    listing = client.get("/_emulator/tenants").json()["tenants"]
    assert [t["tenant_id"] for t in listing] == [tenant.tenant_id]
    (app,) = listing[0]["apps"]
    assert all("value" not in s for s in app["secrets"])
    secret = next(s for s in tenant.apps[app["client_id"]].secrets if s.expires > utcnow())
    assert secret.value not in client.get("/_emulator/tenants").text
    with_values = client.get("/_emulator/tenants?credentials=1").json()["tenants"]
    assert secret.value in [s.get("value") for s in with_values[0]["apps"][0]["secrets"]]


def test_truth_by_id_or_domain(client: httpx.Client, tenant: Tenant) -> None:
    by_id = client.get(f"/_emulator/tenants/{tenant.tenant_id}/truth").json()
    by_domain = client.get(f"/_emulator/tenants/{tenant.domain}/truth").json()
    assert by_id == by_domain
    assert by_id["users"]["total"] == 40
    missing = client.get("/_emulator/tenants/nowhere.example/truth")
    assert missing.status_code == 404
    assert "not found" in missing.json()["error"]["message"]


def test_hire_assign_and_delete_through_the_api(client: httpx.Client, tenant: Tenant) -> None:
    before = tenant.version
    hired = mutate(client, tenant, op="hire", displayName="Api Person", skus=["FLOW_FREE"])
    user = hired["user"]
    assert user["userPrincipalName"] == f"api.person@{tenant.domain}"
    assert user["assignedLicenses"] == ["FLOW_FREE"]
    assert hired["version"] == tenant.version > before
    assert tenant.changed_since(before) == [user["id"]]
    flow = sku_truth(client, tenant, "FLOW_FREE")
    assigned = mutate(client, tenant, op="assign", user=user["id"], sku="VISIOCLIENT", force=True)
    assert "VISIOCLIENT" in assigned["user"]["assignedLicenses"]
    mutate(client, tenant, op="unassign", user=user["id"], sku="VISIOCLIENT")
    mutate(client, tenant, op="disable", user=user["userPrincipalName"])
    assert tenant.user(user["id"]) is not None
    mutate(client, tenant, op="enable", user=user["id"])
    updated = mutate(client, tenant, op="update", user=user["id"], changes={"usageLocation": "DE"})
    assert updated["user"]["accountEnabled"] is True
    deleted = mutate(client, tenant, op="delete", user=user["id"])
    assert deleted["user"]["deleted"] is True
    assert sku_truth(client, tenant, "FLOW_FREE")["consumed"] == flow["consumed"] - 1
    assert refused(client, tenant, 404, {"op": "enable", "user": user["id"]}).startswith("user")


def test_group_subscription_and_credential_ops(client: httpx.Client, tenant: Tenant) -> None:
    uid = mutate(client, tenant, op="hire", displayName="Member Person")["user"]["id"]
    added = mutate(client, tenant, op="add_member", group="LIC-M365-E3", user=uid)
    assert added["user"]["licenseAssignmentStates"][0]["error"] == "CountViolation"
    mutate(client, tenant, op="remove_member", group="LIC-M365-E3", user=uid)
    sub = mutate(client, tenant, op="set_units", sku="SPE_E3", units=5)["subscription"]
    assert sub["units"] == 5
    status = mutate(
        client, tenant, op="set_subscription_status", subscription=sub["id"], status="Warning"
    )
    assert status["subscription"]["status"] == "Warning"
    assert sku_truth(client, tenant, "SPE_E3")["warning"] >= 5
    expired = mutate(client, tenant, op="expire_secret")["expired"]
    assert len(expired) == 1
    truth = client.get(f"/_emulator/tenants/{tenant.tenant_id}/truth").json()
    assert truth["apps"][0]["valid_secrets"] == 0
    assert mutate(client, tenant, op="revoke_consent")["roles"] == []
    granted = mutate(client, tenant, op="grant_consent", roles=["AuditLog.Read.All"])["roles"]
    assert granted == ["AuditLog.Read.All"]
    assert mutate(client, tenant, op="grant_consent")["roles"] == [
        "AuditLog.Read.All", "Directory.Read.All", "User.Read.All",
    ]  # fmt: skip
    epoch = tenant.delta_epoch
    assert mutate(client, tenant, op="expire_delta_tokens")["delta_epoch"] == epoch + 1
    assert mutate(client, tenant, op="set_premium", enabled=False)["has_premium"] is False
    assert tenant.has_premium is False


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        ({"op": "fly"}, 400, "unknown op"),
        ({}, 400, "unknown op"),
        ({"op": "assign", "user": "x", "sku": "SPE_E3"}, 404, "user"),
        ({"op": "assign", "user": "x"}, 400, "'sku' must be"),
        ({"op": "delete"}, 400, "'user' must be"),
        ({"op": "set_units", "sku": "SPE_E3", "units": "many"}, 400, "integer"),
        ({"op": "set_units", "sku": "NOPE", "units": 3}, 404, "not subscribed"),
        ({"op": "set_subscription_status", "sku": "SPE_E3", "status": "Gone"}, 400, "status"),
        ({"op": "update", "user": "365admin", "changes": {"id": "x"}}, 404, "user"),
        ({"op": "add_member", "user": "x", "group": "nope"}, 404, "not found"),
        ({"op": "set_premium", "enabled": "yes"}, 400, "true or false"),
        ({"op": "hire", "skus": ["FLOW_FREE"]}, 400, "displayName"),
        ({"op": "expire_secret", "key_id": "nope"}, 404, "secret"),
    ],
)
def test_bad_mutations_are_refused_clearly(
    client: httpx.Client, tenant: Tenant, body: dict[str, Any], status: int, fragment: str
) -> None:
    before = tenant.version
    assert fragment in refused(client, tenant, status, body)
    assert tenant.version == before


def test_update_refuses_unknown_attributes(client: httpx.Client, tenant: Tenant) -> None:
    upn = f"365admin@{tenant.domain}"
    message = refused(client, tenant, 400, {"op": "update", "user": upn, "changes": {"id": "x"}})
    assert "cannot change 'id'" in message


def test_body_must_be_a_json_object(client: httpx.Client, tenant: Tenant) -> None:
    url = f"/_emulator/tenants/{tenant.tenant_id}/mutations"
    response = client.post(url, content=b"not json")
    assert response.status_code == 400
    assert client.post(url, json=["hire"]).status_code == 400
    assert (
        client.post("/_emulator/tenants/unknown/mutations", json={"op": "hire"}).status_code == 404
    )


def test_every_op_is_documented() -> None:
    assert set(OPS) == {
        "hire", "delete", "disable", "enable", "update", "assign", "unassign", "add_member",
        "remove_member", "set_units", "set_subscription_status", "expire_secret", "revoke_consent",
        "grant_consent", "expire_delta_tokens", "set_premium", "set_assignment_state",
        "restore",
    }  # fmt: skip


def test_faults_are_configured_through_the_api(
    client: httpx.Client, injector: FaultInjector
) -> None:
    response = client.post("/_emulator/faults", json={"spec": "503@/v1.0/users#2"})
    assert response.status_code == 200
    assert injector.spec == "503@/v1.0/users#2"
    bad = client.post("/_emulator/faults", json={"spec": "explode"})
    assert bad.status_code == 400
    assert "unknown fault kind" in bad.json()["error"]["message"]
    assert client.post("/_emulator/faults", json={"spec": 3}).status_code == 400
    assert client.post("/_emulator/faults", json={"spec": ""}).status_code == 200
    assert injector.spec == ""
