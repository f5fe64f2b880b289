"""Fault injection and throttling: the SPEC grammar, each fault kind, determinism, RU buckets."""

from __future__ import annotations

import ssl

import anyio
import httpx
import orjson
import pytest
from starlette.requests import Request
from test_graph_helpers import Env, make_env, make_tenant

from emulator_fixtures import EmulatorFactory
from licensewatch.emulator.faults import FaultInjector, parse_spec
from licensewatch.emulator.options import EmulatorOptions
from licensewatch.emulator.throttle import request_cost, tenant_quota


def statuses(env: Env, url: str, times: int) -> list[int]:
    return [env.get(url).status_code for _ in range(times)]


def test_spec_grammar() -> None:
    faults = parse_spec("503@/v1.0/users#nth=3#2, 429:0.5, slow=2.5@v1.0/users#after=1", seed=1)
    assert [(f.kind, f.arg, f.rate, f.prefix, f.after, f.count) for f in faults] == [
        ("503", None, 1.0, "/v1.0/users", 2, 2),
        ("429", None, 0.5, "", 0, None),
        ("slow", "2.5", 1.0, "/v1.0/users", 1, None),
    ]
    assert parse_spec("", seed=1) == []
    for bad in ("teapot", "503:2", "503#soon"):
        with pytest.raises(ValueError, match="fault"):
            parse_spec(bad, seed=1)


def test_third_users_request_gets_503_twice() -> None:
    env = make_env(make_tenant(3), faults="503@/v1.0/users#nth=3#2")
    assert env.get("/v1.0/organization").status_code == 200  # other paths do not count
    assert statuses(env, "/v1.0/users", 6) == [200, 200, 503, 503, 200, 200]
    env.injector.configure("504")
    response = env.get("/v1.0/subscribedSkus")
    assert response.status_code == 504
    assert response.json()["error"]["code"] == "GatewayTimeout"
    env.injector.configure("")
    assert env.get("/v1.0/subscribedSkus").status_code == 200


def test_rates_are_seeded_and_deterministic() -> None:
    def run(seed: int) -> list[int]:
        env = make_env(make_tenant(2), faults="503:0.3", seed=seed)
        return statuses(env, "/v1.0/organization", 40)

    first = run(5)
    assert first == run(5)
    assert 3 <= first.count(503) <= 25
    assert first != run(6)


def test_injected_429s_carry_retry_after_or_not() -> None:
    env = make_env(make_tenant(2), faults="429#20")
    values = []
    for _ in range(20):
        response = env.get("/v1.0/users")
        assert response.status_code == 429
        body = response.json()["error"]
        assert body["code"] == "TooManyRequests"
        assert set(body["innerError"]) == {"date", "request-id", "client-request-id"}
        assert response.headers["x-ms-throttle-information"] == "ResourceUnitLimitExceeded"
        values.append(float(response.headers["retry-after"]))
    assert any(v != int(v) for v in values)
    assert any(v == int(v) for v in values)
    env.injector.configure("429-noretry#1")
    response = env.get("/v1.0/users")
    assert response.status_code == 429
    assert "retry-after" not in response.headers


def test_truncate_and_garble_break_the_json() -> None:
    env = make_env(make_tenant(20), faults="truncate#1,garble#1")
    for _ in range(2):
        response = env.get("/v1.0/users?$top=10")
        assert response.status_code == 200
        with pytest.raises(orjson.JSONDecodeError):
            orjson.loads(response.content)
    assert orjson.loads(env.get("/v1.0/users?$top=10").content)["value"]


def test_repeat_nextlink_hands_back_the_same_link() -> None:
    env = make_env(make_tenant(30), faults="repeat-nextlink@/v1.0/users#1")
    first = env.get("/v1.0/users?$top=10&$select=id").json()
    second = env.get(first["@odata.nextLink"]).json()
    assert second["@odata.nextLink"] == first["@odata.nextLink"]
    third = env.get(second["@odata.nextLink"]).json()
    assert third["@odata.nextLink"] != first["@odata.nextLink"]


def test_realistic_throttling_spends_resource_units() -> None:
    env = make_env(make_tenant(3), throttle="realistic")
    env.injector.throttle.quota_override = 10
    codes = statuses(env, "/v1.0/users", 8)  # 2 RU each: 5 fit in a 10 RU bucket
    assert codes[:5] == [200] * 5
    assert codes[5] == 429
    response = env.get("/v1.0/users")
    assert response.headers["x-ms-throttle-scope"].startswith("Tenant_Application/")
    assert request_cost("/v1.0/users", {"$select": "id", "$top": "5"}) == 1
    assert request_cost("/v1.0/subscribedSkus", {}) == 3
    assert request_cost("/v1.0/users/x/licenseDetails", {}) == 2
    assert request_cost("/v1.0/groups", {}) == 1
    assert [tenant_quota(n) for n in (10, 50, 500, 501)] == [3500, 5000, 5000, 8000]


def token_request(path: str = "/contoso.onmicrosoft.com/oauth2/v2.0/token") -> Request:
    scope = {"type": "http", "method": "POST", "path": path, "headers": [], "query_string": b""}
    return Request(scope)


def test_token_down_answers_aadsts_503() -> None:
    injector = FaultInjector(EmulatorOptions(faults="token-down#1"))
    answer = anyio.run(injector.before_token_request, token_request())
    assert answer is not None
    assert answer.status_code == 503
    assert orjson.loads(bytes(answer.body))["error_codes"] == [90033]
    assert anyio.run(injector.before_token_request, token_request()) is None


def https_client(base_url: str, ca_bundle: object, timeout: float = 10) -> httpx.Client:
    context = ssl.create_default_context(cafile=str(ca_bundle))
    return httpx.Client(base_url=base_url, verify=context, trust_env=False, timeout=timeout)


def test_reset_and_slow_bodies_over_real_https(make_emulator: EmulatorFactory) -> None:
    env = make_env(make_tenant(50), faults="reset#1,slow=1.5#1")
    running = make_emulator(env.world, app=env.app)
    headers = {"Authorization": f"Bearer {env.token()}"}
    with https_client(running.base_url, running.ca_bundle, timeout=0.5) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            client.get("/v1.0/users", headers=headers)
        with pytest.raises(httpx.ReadTimeout):
            client.get("/v1.0/users", headers=headers)
        assert client.get("/v1.0/users", headers=headers).json()["value"]
