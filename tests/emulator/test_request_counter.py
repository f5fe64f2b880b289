"""GET/DELETE /_emulator/requests: the requests a client really made, by endpoint family."""

from __future__ import annotations

import ssl
from typing import Any

import httpx

from emulator_fixtures import EmulatorFactory, connect
from licensewatch.emulator.counters import endpoint_key
from licensewatch.graph.client import GraphClient


def counts(emulator: Any, method: str = "GET") -> dict[str, Any]:
    trust = ssl.create_default_context(cafile=str(emulator.ca_bundle))
    with httpx.Client(verify=trust) as http:
        response = http.request(method, f"{emulator.base_url}/_emulator/requests")
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def test_counts_every_token_and_graph_request_and_resets(make_emulator: EmulatorFactory) -> None:
    emulator = make_emulator(tenants=2, users=5)
    tenants = list(emulator.world.tenants.values())
    for tenant in tenants:
        with GraphClient(connect(emulator, tenant)) as client:
            client.get_json("/organization")
            client.get_json("/subscribedSkus")
    seen = counts(emulator)
    assert seen["by_endpoint"] == {
        "entra discovery": 2,  # MSAL reads each tenant's OpenID configuration once
        "entra token": 2,
        "graph /v1.0/organization": 2,
        "graph /v1.0/subscribedSkus": 2,
    }
    assert (seen["total"], seen["entra"], seen["graph"]) == (8, 4, 4)
    assert counts(emulator, "DELETE")["total"] == 8  # answers what it cleared
    assert counts(emulator) == {"total": 0, "entra": 0, "graph": 0, "by_endpoint": {}}


def test_endpoint_keys_drop_ids_and_tenants() -> None:
    assert endpoint_key("graph", "/v1.0/users/3f2c/licenseDetails") == "graph /v1.0/users"
    assert endpoint_key("entra", "/contoso.com/oauth2/v2.0/token") == "entra token"
    assert endpoint_key("entra", "/x/v2.0/.well-known/openid-configuration") == "entra discovery"
