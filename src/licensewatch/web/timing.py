"""`Server-Timing: app;dur=<ms>` on every response: the app's own time (devtools, benchmarks)."""

from __future__ import annotations

import time

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

METRIC = "app"


class ServerTimingMiddleware:
    """Times each HTTP request from its arrival in the app to the start of its response.

    The headers leave before the body, so a streamed body (the CSV and Excel exports) is not
    included; every other response is built in full before it starts. Time a request spends
    queued before the app sees it (accept backlog, a busy event loop) is not included either:
    compare with what a client measures.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def send_with_timing(message: Message) -> None:
            if message["type"] == "http.response.start":
                elapsed_ms = (time.perf_counter() - started) * 1000
                MutableHeaders(scope=message).append(
                    "server-timing", f"{METRIC};dur={elapsed_ms:.1f}"
                )
            await send(message)

        await self.app(scope, receive, send_with_timing)


def app_duration_ms(header: str | None) -> float | None:
    """The `app;dur=` figure of a Server-Timing header value, or None when absent."""
    if not header:
        return None
    for entry in header.split(","):
        name, *params = (part.strip() for part in entry.split(";"))
        if name != METRIC:
            continue
        for param in params:
            key, _, value = param.partition("=")
            if key.strip() == "dur":
                try:
                    return float(value)
                except ValueError:
                    return None
    return None
