"""Following a collection's nextLinks: one page ahead in a thread, and one restart of a read
whose `$skiptoken` expired."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Generator, Mapping
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

from licensewatch.graph.errors import EXPIRED_PAGE_TOKEN, GraphError
from licensewatch.graph.paging import NextLinkGuard, Page

log = logging.getLogger(__name__)
Params = Mapping[str, str | int] | None
Headers = Mapping[str, str] | None
# fetch(url, params, headers, page number, cancel) -> the page
Fetch = Callable[[str, Params, Headers, int, "threading.Event | None"], Page]


def pages(
    fetch: Fetch,
    url: str,
    params: Params,
    headers: Headers,
    *,
    prefetch: bool,
    new_guard: Callable[[], NextLinkGuard],
) -> Generator[Page, None, None]:
    """Every page from `url` on; an expired page token after page 1 restarts the read once.

    The directory answers 400 `Directory_ExpiredPageToken` when a long read asks for a page
    whose token it no longer holds: asking the same link again cannot help, reading from the
    first page can (the caller sees earlier items again: it must be idempotent, or deduplicate).
    """
    first, restarted = 1, False
    while True:
        chain = _chain(fetch, url, params, headers, prefetch, first, new_guard())
        last = first - 1
        try:
            for page in chain:
                last = page.number
                yield page
            return
        except GraphError as exc:
            if exc.code != EXPIRED_PAGE_TOKEN or restarted or last < first:
                raise
            restarted, first = True, last + 1
            where = urlsplit(url).path or url
            log.warning("%s; reading %s again from its first page", exc, where)
        finally:
            chain.close()


def _chain(
    fetch: Fetch,
    url: str,
    params: Params,
    headers: Headers,
    prefetch: bool,
    first: int,
    guard: NextLinkGuard,
) -> Generator[Page, None, None]:
    if not params:
        guard.remember(url)
    if not prefetch:
        number, current, current_params = first, url, params
        while True:
            page = fetch(current, current_params, headers, number, None)
            link = guard.check(page, current)
            yield page
            if link is None:
                return
            number, current, current_params = number + 1, link, None
    # The first page is fetched here (the caller waits for it either way); the thread that
    # fetches one page ahead starts only when there is a next page: a fleet's small tenants,
    # one page each, start none.
    cancel = threading.Event()
    pool: ThreadPoolExecutor | None = None
    try:
        current = url
        page = fetch(url, params, headers, first, cancel)
        while True:
            link = guard.check(page, current)
            future = None
            if link is not None:
                if pool is None:
                    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="graph-prefetch")
                future = pool.submit(fetch, link, None, headers, page.number + 1, cancel)
                current = link
            yield page
            if future is None:
                return
            page = future.result()
    finally:
        cancel.set()  # an abandoned iterator stops the prefetch's retry sleep at once
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
