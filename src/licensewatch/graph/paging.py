"""Pages of a Graph collection: the page value and the nextLink loop guard."""

# Paging: learn.microsoft.com/graph/paging

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


class NextLinkGuard:
    """Stops endless paging: a nextLink seen before, or one pointing at another host, is an error.

    Following a foreign host would hand our bearer token to it, so the origin must match Graph's.
    """

    def __init__(self, graph_base: str) -> None:
        self._origin = _origin(graph_base)
        self._seen: set[str] = set()

    def remember(self, url: str) -> None:
        self._seen.add(url)

    def check(self, page: Page, url: str) -> str | None:
        """The page's nextLink if it is safe to follow, None on the last page."""
        link = page.next_link
        if link is None:
            return None
        if _origin(link) != self._origin:
            raise GraphProtocolError(
                f"page {page.number} has a nextLink to another host ({urlsplit(link).netloc})",
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
