"""GraphClient over httpx.MockTransport: retries, 401 refresh, paging, prefetch, stats."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import orjson
import pytest

from licensewatch.graph.auth import AccessToken, TokenProvider
from licensewatch.graph.client import GraphClient
from licensewatch.graph.connection import ClientSecretCredential, GraphConnection
from licensewatch.graph.errors import (
    GraphAuthorizationError,
    GraphProtocolError,
    GraphThrottledError,
    GraphUnavailableError,
)
from licensewatch.graph.http import RequestInfo
from licensewatch.graph.retry import RetryPolicy

BASE = "https://graph.test"
CONN = GraphConnection(
    "contoso.onmicrosoft.com",
    "1ddcf25b-8bb0-4a06-9b68-cd8f1b1f0068",
    ClientSecretCredential("s"),
    authority_host="https://login.test",
    graph_endpoint=BASE,
)
Handler = Callable[[httpx.Request], httpx.Response]


class FakeTokens(TokenProvider):
    """Hands out numbered tokens; the real MSAL paths are tested against the emulator."""

    def __init__(self) -> None:
        super().__init__(CONN)
        self.issued = 0
        self.invalidated = 0

    def token(self) -> AccessToken:
        with self._lock:
            if self._current is None:
                self.issued += 1
                self._current = AccessToken(
                    f"t{self.issued}", time.time() + 3600, frozenset(), "tid", "app"
                )
            return self._current

    def invalidate(self) -> None:
        self.invalidated += 1
        self._current = None


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def make(handler: Handler, **policy: float) -> tuple[GraphClient, FakeTokens, Sleeps]:
    sleeps = Sleeps()
    tokens = FakeTokens()
    retry = RetryPolicy(sleep=sleeps, **policy)  # type: ignore[arg-type]
    http = httpx.Client(transport=httpx.MockTransport(handler))
    return GraphClient(CONN, token_provider=tokens, retry=retry, http=http), tokens, sleeps


def page(items: list[int], next_link: str | None = None, **extra: object) -> httpx.Response:
    body: dict[str, object] = {"value": [{"id": str(i)} for i in items], **extra}
    if next_link:
        body["@odata.nextLink"] = next_link
    return httpx.Response(200, content=orjson.dumps(body), headers={"request-id": "r"})


def test_every_request_is_authorised_and_identified() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"value": [{"id": "org"}]})

    client, _, _ = make(handler)
    assert client.get_json("/organization") == {"value": [{"id": "org"}]}
    assert client.get_json(f"{BASE}/v1.0/organization")["value"][0]["id"] == "org"
    assert [r.url.path for r in seen] == ["/v1.0/organization"] * 2
    assert all(r.headers["Authorization"] == "Bearer t1" for r in seen)
    ids = {r.headers["client-request-id"] for r in seen}
    assert len(ids) == 2
    assert all(len(i) == 36 for i in ids)
    with pytest.raises(ValueError, match="Graph host"):
        client.get_json("https://evil.test/v1.0/users")


def test_401_refreshes_the_token_once() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers["Authorization"] == "Bearer t1":
            return httpx.Response(401, json={"error": {"code": "InvalidAuthenticationToken"}})
        return httpx.Response(200, json={"ok": True})

    client, tokens, _ = make(handler)
    assert client.get_json("/organization") == {"ok": True}
    assert (tokens.issued, tokens.invalidated) == (2, 1)


def test_a_second_401_is_raised() -> None:
    client, tokens, _ = make(lambda r: httpx.Response(401, headers={"request-id": "rid-401"}))
    with pytest.raises(Exception, match="rid-401") as caught:
        client.get_json("/organization")
    assert getattr(caught.value, "status", None) == 401
    assert tokens.invalidated == 1


def test_throttling_honours_retry_after_then_succeeds() -> None:
    answers = iter(
        [
            httpx.Response(429, headers={"Retry-After": "2.128"}),
            httpx.Response(503, headers={"Retry-After": "1"}),
            httpx.Response(504),
            httpx.Response(200, json={"ok": 1}),
        ]
    )
    client, _, sleeps = make(lambda r: next(answers))
    assert client.get_json("/users") == {"ok": 1}
    assert sleeps[:2] == [2.128, 1.0]
    assert 0 <= sleeps[2] <= 2.0  # no Retry-After on the 504: jittered backoff for attempt 3
    assert client.stats.as_dict() == {
        "requests": 4, "retries": 3, "throttled": 1, "pages": 0, "bytes": 8
    }  # fmt: skip


def test_throttling_budget_exhausted() -> None:
    client, _, sleeps = make(
        lambda r: httpx.Response(429, headers={"Retry-After": "1", "request-id": "rid-9"}),
        max_attempts=3,
        sync_budget=2.0,  # the two retries fit, a pause of the chain does not
    )
    with pytest.raises(GraphThrottledError, match="rid-9") as caught:
        client.get_json("/users")
    assert "gave up after 3 attempts" in str(caught.value)
    assert sleeps == [1.0, 1.0]


def test_retry_after_beyond_the_sync_budget_is_not_slept() -> None:
    client, _, sleeps = make(
        lambda r: httpx.Response(429, headers={"Retry-After": "500"}), sync_budget=100.0
    )
    with pytest.raises(GraphThrottledError):
        client.get_json("/users")
    assert sleeps == []


def test_transport_errors_are_retried_then_reported() -> None:
    calls = 0

    def flaky(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise httpx.ReadError("connection reset by peer", request=request)
        return httpx.Response(200, json={"ok": 1})

    client, _, sleeps = make(flaky)
    assert client.get_json("/users") == {"ok": 1}
    assert len(sleeps) == 2

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("timed out", request=request)

    client, _, _ = make(down, max_attempts=2)
    with pytest.raises(GraphUnavailableError, match=r"graph\.test unreachable after 2 attempts"):
        client.get_json("/users")


def test_garbled_json_is_fetched_again_once() -> None:
    answers = iter([httpx.Response(200, content=b'{"value": [{"id"'), page([1])])
    client, _, _ = make(lambda r: next(answers))
    assert client.get_json("/users")["value"] == [{"id": "1"}]
    client, _, _ = make(
        lambda r: httpx.Response(200, content=b"{garbage", headers={"request-id": "g"})
    )
    with pytest.raises(GraphProtocolError, match=r"invalid JSON twice.*request-id g"):
        client.get_json("/users")


def test_403_is_an_authorization_error() -> None:
    error = {"code": "Authorization_RequestDenied", "message": "Insufficient privileges."}
    client, _, sleeps = make(lambda r: httpx.Response(403, json={"error": error}))
    with pytest.raises(GraphAuthorizationError) as caught:
        client.get_json("/subscribedSkus")
    assert caught.value.missing_permission == "Directory.Read.All"
    assert sleeps == []


@pytest.mark.parametrize("prefetch", [True, False])
def test_paging_follows_next_links_and_resends_headers(prefetch: bool) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        token = request.url.params.get("$skiptoken")
        if token is None:
            return page([1, 2], f"{BASE}/v1.0/users?$skiptoken=a", **{"@odata.count": 5})
        if token == "a":
            return page([3, 4], f"{BASE}/v1.0/users?$skiptoken=b")
        return page([5], None, **{"@odata.deltaLink": f"{BASE}/v1.0/users/delta?$deltatoken=z"})

    client, _, _ = make(handler)
    params = {"$select": "id", "$count": "true"}
    pages = list(
        client.iter_pages("/users", params, {"ConsistencyLevel": "eventual"}, prefetch=prefetch)
    )
    assert [p.number for p in pages] == [1, 2, 3]
    assert [i["id"] for p in pages for i in p.items] == ["1", "2", "3", "4", "5"]
    assert (pages[0].count, pages[1].count) == (5, None)
    assert pages[2].delta_link
    assert pages[2].next_link is None
    assert all(r.headers["ConsistencyLevel"] == "eventual" for r in seen)
    assert seen[0].url.params["$select"] == "id"
    assert "$select" not in seen[1].url.params  # nextLinks carry their own query
    assert client.stats.pages == 3


@pytest.mark.parametrize("prefetch", [True, False])
def test_a_repeated_next_link_stops_paging(prefetch: bool) -> None:
    client, _, _ = make(lambda r: page([1], f"{BASE}/v1.0/users?$skiptoken=same"))
    pages = client.iter_pages("/users", prefetch=prefetch)
    with pytest.raises(GraphProtocolError, match="repeats an earlier nextLink"):
        for _ in pages:
            pass


def test_a_next_link_to_another_host_is_refused() -> None:
    client, _, _ = make(lambda r: page([1], "https://attacker.test/v1.0/users?$skiptoken=x"))
    with pytest.raises(GraphProtocolError, match="another host"):
        list(client.iter_pages("/users"))


def test_a_page_without_value_is_a_protocol_error() -> None:
    client, _, _ = make(lambda r: httpx.Response(200, json={"error": "?"}))
    with pytest.raises(GraphProtocolError, match="value"):
        list(client.iter_pages("/users"))


def test_prefetch_fetches_exactly_one_page_ahead() -> None:
    fetched: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        n = int(request.url.params.get("n", "1"))
        fetched.append(n)
        return page([n], f"{BASE}/v1.0/users?n={n + 1}" if n < 4 else None)

    client, _, _ = make(handler)
    pages = client.iter_pages("/users")
    first = next(pages)
    deadline = time.monotonic() + 5
    while len(fetched) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)  # give a runaway prefetch time to show itself
    assert first.number == 1
    assert fetched == [1, 2]  # page 2 was fetched while page 1 was handled, page 3 not yet
    assert [p.number for p in pages] == [2, 3, 4]


def test_abandoning_the_iterator_stops_a_waiting_prefetch() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if "n=2" in str(request.url):
            return httpx.Response(503, headers={"Retry-After": "30"})
        return page([1], f"{BASE}/v1.0/users?n=2")

    tokens = FakeTokens()
    http = httpx.Client(transport=httpx.MockTransport(handler))
    client = GraphClient(CONN, token_provider=tokens, http=http)  # real, interruptible sleeps
    pages = client.iter_pages("/users")
    next(pages)
    time.sleep(0.1)  # the prefetch now waits 30 s before retrying page 2
    started = time.monotonic()
    pages.close()
    assert time.monotonic() - started < 5


def test_count_users_sends_eventual_consistency_and_text_plain() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, text="893", headers={"content-type": "text/plain"})

    client, _, _ = make(handler)
    assert client.count_users("accountEnabled eq true") == 893
    request = seen[0]
    assert request.url.path == "/v1.0/users/$count"
    assert request.headers["ConsistencyLevel"] == "eventual"
    assert request.headers["Accept"] == "text/plain"
    assert request.url.params["$filter"] == "accountEnabled eq true"
    client, _, _ = make(lambda r: httpx.Response(200, text="lots"))
    with pytest.raises(GraphProtocolError, match="not a number"):
        client.count_users()


def test_on_request_sees_every_attempt_but_never_the_token() -> None:
    infos: list[RequestInfo] = []
    answers = iter([httpx.Response(503, headers={"Retry-After": "0"}), page([1])])
    client, _, _ = make(lambda r: next(answers))
    client.on_request = infos.append
    client.get_json("/users")
    assert [(i.status, i.attempt) for i in infos] == [(503, 1), (200, 2)]
    assert all("t1" not in repr(i) for i in infos)
    assert infos[1].request_id == "r"
    assert infos[1].size > 0
