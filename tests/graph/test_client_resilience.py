"""GraphClient over httpx.MockTransport: pause-and-resume of a page chain, expired page tokens."""

from __future__ import annotations

import httpx
import orjson
import pytest
from test_client_unit import Sleeps, make, page

from licensewatch.graph.errors import GraphError


def test_a_page_that_gives_up_pauses_and_the_chain_resumes_there() -> None:
    """Seven 429s on page 2: the request gives up after 3 attempts, pauses, and page 2 comes."""
    throttled = 0
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal throttled
        asked.append(str(request.url))
        if "skiptoken=2" not in str(request.url):
            return page([1, 2], "https://graph.test/v1.0/users?$skiptoken=2")
        if throttled < 7:
            throttled += 1
            return httpx.Response(429, headers={"Retry-After": "0"})
        return page([3])

    client, _, sleeps = make(handler, max_attempts=3, min_delay=0.5, pause=10.0, sync_budget=60.0)
    pages = list(client.iter_pages("/users", prefetch=False))
    assert [item["id"] for p in pages for item in p.items] == ["1", "2", "3"]
    assert asked.count("https://graph.test/v1.0/users") == 1  # page 1 was never asked again
    assert sleeps == [0.5, 0.5, 10.0, 0.5, 0.5, 10.0, 0.5]
    assert client.budget.spent == sum(sleeps)


def test_a_storm_longer_than_the_sync_budget_fails_with_the_last_answer() -> None:
    client, _, sleeps = make(
        lambda r: httpx.Response(502, headers={"request-id": "rid-502"}),
        max_attempts=2,
        min_delay=1.0,
        max_delay=1.0,
        pause=3.0,
        sync_budget=9.0,
    )
    with pytest.raises(GraphError, match="rid-502") as caught:
        client.get_json("/organization")
    assert caught.value.status == 502
    assert caught.value.retryable
    assert sleeps == Sleeps([1.0, 3.0, 1.0, 3.0, 1.0])  # 9 s: the next pause does not fit


@pytest.mark.parametrize("prefetch", [False, True])
def test_an_expired_page_token_restarts_the_read_once(prefetch: bool) -> None:
    expired = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal expired
        if "skiptoken" not in str(request.url):
            return page([1, 2], "https://graph.test/v1.0/users?$skiptoken=2")
        if expired < 1:
            expired += 1
            body = {"error": {"code": "Directory_ExpiredPageToken", "message": "expired"}}
            return httpx.Response(400, content=orjson.dumps(body))
        return page([3])

    client, _, _ = make(handler)
    pages = list(client.iter_pages("/users", prefetch=prefetch))
    assert [p.number for p in pages] == [1, 2, 3]
    assert [item["id"] for p in pages for item in p.items] == ["1", "2", "1", "2", "3"]


def test_a_second_expired_page_token_fails_the_read() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if "skiptoken" not in str(request.url):
            return page([1], "https://graph.test/v1.0/users?$skiptoken=2")
        body = {"error": {"code": "Directory_ExpiredPageToken", "message": "expired"}}
        return httpx.Response(400, content=orjson.dumps(body))

    client, _, _ = make(handler)
    with pytest.raises(GraphError) as caught:
        list(client.iter_pages("/users", prefetch=False))
    assert caught.value.code == "Directory_ExpiredPageToken"
