"""Graph emulator $batch: limits, dispatch, out-of-order answers, dependsOn, per-item 429."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
from test_graph_helpers import Env, make_env, make_tenant


def post_batch(env: Env, requests: list[dict[str, Any]]) -> httpx.Response:
    body = orjson.dumps({"requests": requests})
    headers = {"Authorization": f"Bearer {env.token()}", "Content-Type": "application/json"}
    return env.client.post("/v1.0/$batch", headers=headers, content=body)


def get(item_id: str, url: str, **extra: Any) -> dict[str, Any]:
    return {"id": item_id, "method": "GET", "url": url, **extra}


def test_batch_answers_each_request_out_of_order() -> None:
    env = make_env(make_tenant(10))
    items = [get(str(n), f"/users?$top={n}&$select=id") for n in range(1, 11)]
    items.append(get("sku", "subscribedSkus"))
    items.append(
        get("count", "/users/$count", headers={"ConsistencyLevel": "eventual", "Accept": "*/*"})
    )
    response = post_batch(env, items)
    assert response.status_code == 200
    answers = response.json()["responses"]
    assert sorted(a["id"] for a in answers) == sorted(i["id"] for i in items)
    assert [a["id"] for a in answers] != [i["id"] for i in items]  # shuffled (seeded)
    by_id = {a["id"]: a for a in answers}
    assert len(by_id["7"]["body"]["value"]) == 7
    assert by_id["7"]["headers"]["OData-Version"] == "4.0"
    assert by_id["sku"]["status"] == 200
    assert by_id["sku"]["body"]["value"]
    assert by_id["count"]["body"] == "10"


def test_batch_limits_and_malformed_bodies() -> None:
    env = make_env(make_tenant(1))
    assert post_batch(env, [get(str(n), "/users") for n in range(20)]).status_code == 200
    too_many = post_batch(env, [get(str(n), "/users") for n in range(21)])
    assert too_many.status_code == 400
    headers = {"Authorization": f"Bearer {env.token()}"}
    assert env.client.post("/v1.0/$batch", headers=headers, content=b"{").status_code == 400
    assert post_batch(env, [get("1", "/users"), get("1", "/users")]).status_code == 400
    assert post_batch(env, [get("1", "/users", dependsOn=["2"])]).status_code == 400
    assert env.client.post("/v1.0/$batch", content=b"{}").status_code == 401


def test_failed_dependency_gives_424() -> None:
    env = make_env(make_tenant(1))
    answers = post_batch(
        env,
        [
            get("a", "/users/nobody@nowhere"),
            get("b", "/organization", dependsOn=["a"]),
            get("c", "/organization"),
        ],
    ).json()["responses"]
    status = {a["id"]: a["status"] for a in answers}
    assert status == {"a": 404, "b": 424, "c": 200}


def test_each_item_is_throttled_on_its_own() -> None:
    env = make_env(make_tenant(3), faults="429=2.5@/v1.0/users#nth=2#1")
    answers = post_batch(env, [get(str(n), "/users?$select=id") for n in range(4)]).json()
    by_status = sorted((a["status"], a["id"]) for a in answers["responses"])
    assert [s for s, _ in by_status] == [200, 200, 200, 429]
    throttled = next(a for a in answers["responses"] if a["status"] == 429)
    assert throttled["id"] == "1"  # the second request in order
    assert throttled["headers"]["Retry-After"] == "2.5"
    assert throttled["body"]["error"]["code"] == "TooManyRequests"
