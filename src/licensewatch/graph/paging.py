"""Pages of a Graph collection: the page value and the nextLink loop guard (graph facts §3)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from licensewatch.graph.errors import GraphProtocolError


@dataclass(frozen=True, slots=True)
class Page:
    """One page as Graph sent it: plain dicts from orjson, never model objects."""

    items: list[dict[str, Any]]
    next_link: str | None
    delta_link: str | None
    count: int | None
    number: int
    request_id: str


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def page_from_body(body: Any, *, number: int, request_id: str, url: str) -> Page:
    """A Page from a decoded collection body; GraphProtocolError when its shape is wrong."""
    if not isinstance(body, dict) or not isinstance(body.get("value"), list):
        raise GraphProtocolError(
            "Graph returned a page without a `value` list", request_id=request_id, url=url
        )
    next_link = body.get("@odata.nextLink")
    delta_link = body.get("@odata.deltaLink")
    count = body.get("@odata.count")
    for name, value in (("@odata.nextLink", next_link), ("@odata.deltaLink", delta_link)):
        if value is not None and not isinstance(value, str):
            raise GraphProtocolError(f"{name} is not a string", request_id=request_id, url=url)
    return Page(
        items=body["value"],
        next_link=next_link or None,
        delta_link=delta_link or None,
        count=count if isinstance(count, int) and not isinstance(count, bool) else None,
        number=number,
        request_id=request_id,
    )


class LinkRewrite:
    """Links naming the cloud's Graph host, sent through a custom endpoint (a reverse proxy).

    Only when enabled (LICENSEWATCH_GRAPH_LINK_REWRITE) and the endpoint differs from the cloud's:
    `https://graph.microsoft.com/v1.0/users?$skiptoken=…` becomes `<endpoint>/v1.0/users?…`.
    Any other host is never rewritten, so the guard still refuses it.
    """

    def __init__(self, canonical: str, endpoint: str, *, enabled: bool) -> None:
        self._canonical = canonical.rstrip("/")
        self._endpoint = endpoint.rstrip("/")
        self.enabled = enabled and self._canonical.lower() != self._endpoint.lower()

    def __call__(self, link: str) -> str:
        if not self.enabled or _origin(link) != _origin(self._canonical):
            return link
        parts = urlsplit(link)
        rest = link[len(f"{parts.scheme}://{parts.netloc}") :]  # path, query, as Graph wrote them
        return f"{self._endpoint}{rest}"


class NextLinkGuard:
    """Stops endless paging: a nextLink seen before, or one pointing at another host, is an error.

    Following a foreign host would hand our bearer token to it, so the origin must match Graph's
    (after the opt-in `LinkRewrite` of the cloud's own host to a configured endpoint).
    """

    def __init__(self, graph_base: str, rewrite: LinkRewrite | None = None) -> None:
        self._origin = _origin(graph_base)
        self._rewrite = rewrite
        self._seen: set[str] = set()

    def remember(self, url: str) -> None:
        self._seen.add(url)

    def check(self, page: Page, url: str) -> str | None:
        """The page's nextLink if it is safe to follow, None on the last page."""
        link = page.next_link
        if link is None:
            return None
        if self._rewrite is not None:
            link = self._rewrite(link)
        if _origin(link) != self._origin:
            raise GraphProtocolError(
                f"page {page.number} has a nextLink to another host ({urlsplit(link).netloc}); "
                "behind a proxy that keeps Graph's own host in links, see "
                "LICENSEWATCH_GRAPH_LINK_REWRITE in docs/configuration.md",
                request_id=page.request_id,
                url=url,
            )
        if link in self._seen:
            raise GraphProtocolError(
                f"page {page.number} repeats an earlier nextLink (paging loop)",
                request_id=page.request_id,
                url=url,
            )
        self._seen.add(link)
        return link
