"""Gives each HTTP request an empty audit actor slot, filled in once its caller is known."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from licensewatch.services.acting import acting_as


class ActingMiddleware:
    """One `Acting` per request: `web/auth.py` names the caller in it, the services record it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with acting_as():
            await self.app(scope, receive, send)
