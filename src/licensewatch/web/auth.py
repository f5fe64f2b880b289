"""Who is calling: session cookie (pages and API) or Bearer token (API); role and CSRF checks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from sqlalchemy import Connection

from licensewatch.services.accounts import Principal
from licensewatch.services.acting import current
from licensewatch.web.context import engine_of
from licensewatch.web.identity import session_view, token_principal
from licensewatch.web.security import CSRF_FIELD, CSRF_HEADER, SESSION_COOKIE, tokens_match


class LoginRequired(Exception):
    """A page needs a signed-in user: the handler redirects to the sign-in form."""


@dataclass(frozen=True)
class Caller:
    """The authenticated caller; `csrf_secret` is None for Bearer tokens (no cookie, no CSRF)."""

    principal: Principal
    csrf_secret: str | None

    @property
    def is_admin(self) -> bool:
        return self.principal.is_admin


def session_caller(request: Request, connection: Connection | None = None) -> Caller | None:
    """The caller of the session cookie, looked up once per request (on `connection` if given)."""
    if hasattr(request.state, "caller"):
        cached: Caller | None = request.state.caller
        return cached
    raw = request.cookies.get(SESSION_COOKIE)
    view = session_view(engine_of(request), raw, connection) if raw else None
    caller = Caller(view.principal, view.csrf_secret) if view else None
    request.state.caller = caller
    if caller is not None:
        _name_actor(request, caller)
    return caller


def _name_actor(request: Request, caller: Caller) -> None:
    """The audit log's who and from where for this request (filled into its `acting` slot)."""
    acting = current()
    acting.name = caller.principal.username
    # The TCP peer, or the client a trusted proxy names (LICENSEWATCH_TRUSTED_PROXIES).
    acting.address = request.client.host if request.client else None


def page_caller(request: Request) -> Caller:
    return page_caller_on(request, None)


def page_caller_on(request: Request, connection: Connection | None) -> Caller:
    caller = session_caller(request, connection)
    if caller is None:
        raise LoginRequired
    return caller


def page_admin(caller: Annotated[Caller, Depends(page_caller)]) -> Caller:
    return admin_only(caller)


def admin_only(caller: Caller) -> Caller:
    """A page's 403 for a signed-in caller who is not an administrator."""
    if not caller.is_admin:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "This needs an administrator account.")
    return caller


async def form_csrf(
    request: Request, caller: Annotated[Caller, Depends(page_caller)]
) -> AsyncIterator[Caller]:
    """Every state-changing form carries the session's CSRF token; uploads are closed after."""
    form = await request.form()
    try:
        given = form.get(CSRF_FIELD)
        if not tokens_match(given if isinstance(given, str) else None, caller.csrf_secret):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                "The form expired or was not sent by this site; reload the page and try again.",
            )
        yield caller
    finally:
        await form.close()


async def admin_form(caller: Annotated[Caller, Depends(form_csrf)]) -> Caller:
    if not caller.is_admin:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "This needs an administrator account.")
    return caller


def api_caller(request: Request) -> Caller:
    return api_caller_on(request, None)


def api_caller_on(request: Request, connection: Connection | None) -> Caller:
    """The Bearer token's or session's caller (looked up on `connection` if given), or 401."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        principal = token_principal(engine_of(request), token.strip(), connection)
        if principal is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "invalid or expired API token",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        bearer = Caller(principal, None)
        request.state.caller = bearer  # what tenant scoping reads (web/scope.py)
        _name_actor(request, bearer)
        return bearer
    caller = session_caller(request, connection)
    if caller is None:
        raise _no_credentials()
    return caller


def _no_credentials() -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        "authentication required: send Authorization: Bearer <token>",
        headers={"WWW-Authenticate": "Bearer"},
    )


def has_api_credentials(request: Request) -> bool:
    """Whether the request carries a Bearer token or a session cookie (valid or not)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    bearer = scheme.lower() == "bearer" and bool(token.strip())
    return bearer or bool(request.cookies.get(SESSION_COOKIE))


def require_credentials(request: Request, *, api: bool) -> None:
    """Refuse at once a request without any credential (no database work), as the caller
    dependencies would: before its parameters are validated, so the answer does not depend on
    them. Whether a credential is valid is checked on the request's connection after."""
    if api and not has_api_credentials(request):
        raise _no_credentials()
    if not api and not request.cookies.get(SESSION_COOKIE):
        raise LoginRequired


def api_admin(request: Request, caller: Annotated[Caller, Depends(api_caller)]) -> Caller:
    """Admin-only routes; a browser session changing something must also send its CSRF token."""
    return api_admin_of(request, caller)


def api_admin_of(request: Request, caller: Caller) -> Caller:
    """The checks of `api_admin` on a caller already found."""
    if not caller.is_admin:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this needs an administrator account")
    unsafe = request.method not in ("GET", "HEAD", "OPTIONS")
    if (
        unsafe
        and caller.csrf_secret is not None
        and not tokens_match(request.headers.get(CSRF_HEADER), caller.csrf_secret)
    ):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"missing or wrong {CSRF_HEADER} header")
    return caller


PageCaller = Annotated[Caller, Depends(page_caller)]
PageAdmin = Annotated[Caller, Depends(page_admin)]
FormCaller = Annotated[Caller, Depends(form_csrf)]
AdminForm = Annotated[Caller, Depends(admin_form)]
ApiCaller = Annotated[Caller, Depends(api_caller)]
ApiAdmin = Annotated[Caller, Depends(api_admin)]
