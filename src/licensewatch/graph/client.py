"""The Graph client: authenticated GETs with retries, orjson decoding and pipelined paging."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson

from licensewatch.graph import page_chain
from licensewatch.graph.auth import AccessToken, TokenProvider
from licensewatch.graph.connection import GraphConnection
from licensewatch.graph.errors import GraphProtocolError
from licensewatch.graph.http import GraphStats, RequestInfo, build_http_client
from licensewatch.graph.page_chain import Headers, Params
from licensewatch.graph.paging import LinkRewrite, NextLinkGuard, Page, page_from_body
from licensewatch.graph.retry import RetryBudget, RetryPolicy, policy_from_settings
from licensewatch.graph.sender import GraphSender
from licensewatch.settings import load_settings


class GraphClient(GraphSender):
    """Microsoft Graph v1.0 over one httpx client; thread-safe; returns plain dicts."""

    def __init__(
        self,
        connection: GraphConnection,
        *,
        token_provider: TokenProvider | None = None,
        timeout: float = 60.0,
        retry: RetryPolicy | None = None,
        http: httpx.Client | None = None,
        on_request: Callable[[RequestInfo], None] | None = None,
        rng: random.Random | None = None,
        rewrite_links: bool | None = None,
    ) -> None:
        """`retry` and `rewrite_links` default to LICENSEWATCH_RETRY_* and
        LICENSEWATCH_GRAPH_LINK_REWRITE (docs/configuration.md)."""
        settings = load_settings() if retry is None or rewrite_links is None else None
        self.connection = connection
        self._owns_http = http is None
        self._http = (
            http if http is not None else build_http_client(connection.ca_bundle, timeout=timeout)
        )
        self._owns_tokens = token_provider is None
        self._tokens = token_provider or TokenProvider(connection, http=self._http)
        self._retry = retry or policy_from_settings(settings)
        # The whole-sync budget: a client serves one sync (or one diagnostic), all its threads.
        self.budget = RetryBudget(self._retry.sync_budget)
        self._rng = rng or random.Random()
        self._lock = threading.Lock()
        self._base = connection.graph_base
        if rewrite_links is None:
            rewrite_links = bool(settings and settings.graph_link_rewrite)
        self._rewrite = LinkRewrite(
            connection.cloud.graph_endpoint,
            connection.resolved_graph_endpoint,
            enabled=rewrite_links,
        )
        self.stats = GraphStats()
        self.on_request = on_request

    # ---- lifecycle
    def __enter__(self) -> GraphClient:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._owns_tokens:
            self._tokens.close()
        if self._owns_http:
            self._http.close()

    def replica_options(self) -> dict[str, Any]:
        """GraphClient keyword arguments for a like client in another process (no secret)."""
        timeout = self._http.timeout.read or 60.0
        return {"retry": self._retry, "timeout": timeout, "rewrite_links": self._rewrite.enabled}

    def token(self) -> AccessToken:
        """The current app-only token (its roles and tenant decide what a sync asks for)."""
        return self._token(None)[0]

    # ---- public reads
    def get_json(
        self, path_or_url: str, params: Params = None, headers: Headers = None
    ) -> dict[str, Any]:
        """One JSON object (e.g. /organization); GraphError subclasses on failure."""
        return self._get_json(self.url(path_or_url), params, headers, None)[0]

    def get_text(self, path_or_url: str, params: Params = None, headers: Headers = None) -> str:
        """A text/plain answer (e.g. /users/$count)."""
        merged = {"Accept": "text/plain", **(headers or {})}
        return self._resumable(self.url(path_or_url), params, merged, None).text

    def get_response(self, path_or_url: str, headers: Headers = None) -> httpx.Response:
        """One authenticated GET with retries, answered below 400; a redirect is returned as is."""
        return self._resumable(self.url(path_or_url), None, headers, None)

    def get_preauthenticated(self, url: str, headers: Headers = None) -> httpx.Response:
        """A GET of a pre-authenticated download URL *without* the Authorization header.

        Graph's 302 of a report points at another host (reports.office.com): sending the bearer
        token there would leak it. Retries and throttling follow the same policy as Graph's.
        """
        return self._resumable(url, None, headers, None, authenticated=False)

    @contextmanager
    def stream_preauthenticated(
        self, url: str, headers: Headers = None
    ) -> Iterator[httpx.Response]:
        """`get_preauthenticated` with the body left unread: the caller reads it as it arrives.

        Statuses and retries are decided on the headers (an error body is read, it is small);
        a failure while the body streams is the caller's (`httpx.TransportError`).
        """
        response = self._resumable(url, None, headers, None, authenticated=False, stream=True)
        try:
            yield response
        finally:
            response.close()

    def count_users(self, filter: str | None = None) -> int:
        """Users in the tenant (optionally matching an OData filter) via /users/$count."""
        params = {"$filter": filter} if filter else None
        headers = {"ConsistencyLevel": "eventual", "Accept": "text/plain"}
        url = self.url("/users/$count")
        response = self._resumable(url, params, headers, None)
        try:
            return int(response.text.strip())
        except ValueError as exc:
            raise GraphProtocolError(
                f"/users/$count returned {response.text[:40]!r}, not a number",
                status=response.status_code,
                request_id=response.headers.get("request-id"),
                url=url,
            ) from exc

    def iter_pages(
        self,
        path_or_url: str,
        params: Params = None,
        headers: Headers = None,
        *,
        prefetch: bool = True,
    ) -> Generator[Page, None, None]:
        """Every page of a collection or delta query; headers (ConsistencyLevel…) go on every page.

        With prefetch, page n+1 is fetched in a background thread while the caller handles page n
        (at most one page ahead), which hides Graph's latency behind the caller's writes.
        A `$skiptoken` that expired during a long read (`Directory_ExpiredPageToken`) restarts the
        read from its first page once: the caller sees earlier items again (page numbers go on).
        """
        yield from page_chain.pages(
            self._fetch_page,
            self.url(path_or_url),
            params,
            headers,
            prefetch=prefetch,
            new_guard=lambda: NextLinkGuard(self._base, self._rewrite),
        )

    def url(self, path_or_url: str) -> str:
        """An absolute Graph URL from a path (`/users`) or a link Graph gave (nextLink…)."""
        if path_or_url.startswith(("https://", "http://")):
            link = self._rewrite(path_or_url)
            if urlsplit(link).netloc.lower() != urlsplit(self._base).netloc.lower():
                raise ValueError(f"{path_or_url} is not on this connection's Graph host")
            return link
        return f"{self._base}/{path_or_url.lstrip('/')}"

    # ---- internals
    def _fetch_page(
        self,
        url: str,
        params: Params,
        headers: Headers,
        number: int,
        cancel: threading.Event | None,
    ) -> Page:
        body, request_id = self._get_json(url, params, headers, cancel)
        page = page_from_body(body, number=number, request_id=request_id, url=url)
        self._count(pages=1)
        return page

    def _get_json(
        self, url: str, params: Params, headers: Headers, cancel: threading.Event | None
    ) -> tuple[dict[str, Any], str]:
        merged = {"Accept": "application/json", **(headers or {})}
        for decode_attempt in (1, 2):
            response = self._resumable(url, params, merged, cancel)
            request_id = response.headers.get("request-id", "")
            try:
                body = orjson.loads(response.content)
            except orjson.JSONDecodeError as exc:
                if decode_attempt == 1:  # a garbled body is usually a one-off: ask once more
                    self._count(retries=1)
                    continue
                raise GraphProtocolError(
                    f"Graph returned invalid JSON twice ({exc})",
                    status=response.status_code,
                    request_id=request_id,
                    url=url,
                ) from exc
            if not isinstance(body, dict):
                raise GraphProtocolError("Graph returned JSON that is not an object", url=url)
            return body, request_id
        raise AssertionError("unreachable")  # pragma: no cover

    def post_json(self, path: str, body: dict[str, Any]) -> tuple[dict[str, Any], str]:
        """One write: (the answer's JSON object, its request-id).

        Only throttling (429, nothing was done) is retried, honouring Retry-After; any other
        failure raises at once, and a transport error or a 5xx leaves the outcome unknown: the
        caller reads the resource before deciding to send again (`GraphError.uncertain`).
        """
        url = self.url(path)
        content = orjson.dumps(body)
        headers = {"Accept": "application/json", "Content-Type": "application/json"}
        response = self._send(url, None, headers, None, method="POST", content=content)
        request_id = response.headers.get("request-id", "")
        try:
            answer = orjson.loads(response.content) if response.content else {}
        except orjson.JSONDecodeError:
            answer = {}  # the write succeeded (2xx); a garbled echo of the user changes nothing
        return (answer if isinstance(answer, dict) else {}), request_id
