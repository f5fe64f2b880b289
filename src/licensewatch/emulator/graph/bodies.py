"""Broken answers for fault injection: reset mid-body, truncated or garbled JSON, a stalled body."""

from __future__ import annotations

import asyncio

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

_GARBAGE = b"\x00\xff<garbled>"


class InjectedReset(ConnectionResetError):
    """Raised after part of a body went out: the server drops the connection like a reset peer."""


def _headers(template: Response) -> dict[str, str]:
    return {k: v for k, v in template.headers.items() if k.lower() != "content-length"}


class PartialBody(Response):
    """Sends the head (full Content-Length) and half the body; then stalls and ends, or drops."""

    def __init__(self, body: bytes, template: Response, stall_seconds: float | None) -> None:
        super().__init__(body, template.status_code, _headers(template))
        self.stall_seconds = stall_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = bytes(self.body)
        cut = len(body) // 2
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        await send({"type": "http.response.body", "body": body[:cut], "more_body": True})
        if self.stall_seconds is None:
            raise InjectedReset("fault injection: connection reset mid-body")
        await asyncio.sleep(self.stall_seconds)
        await send({"type": "http.response.body", "body": body[cut:], "more_body": False})


def resetting(body: bytes, template: Response) -> Response:
    return PartialBody(body, template, None)


def slow(body: bytes, template: Response, stall_seconds: float) -> Response:
    return PartialBody(body, template, stall_seconds)


def truncated(body: bytes, template: Response) -> Response:
    """A complete HTTP message whose JSON stops half way."""
    return Response(body[: len(body) // 2], template.status_code, _headers(template))


def garbled(body: bytes, template: Response) -> Response:
    """Same length, but a NUL and an invalid UTF-8 byte in the middle make it unparseable JSON."""
    mid = max(0, len(body) // 2 - len(_GARBAGE) // 2)
    broken = body[:mid] + _GARBAGE + body[mid + len(_GARBAGE) :]
    return Response(broken, template.status_code, _headers(template))
