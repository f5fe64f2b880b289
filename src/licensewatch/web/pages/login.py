"""Sign in (with throttling and a fresh session id every time) and sign out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.exc import OperationalError
from starlette.responses import Response

from licensewatch.services.accounts import account_exists, authenticate, count_accounts
from licensewatch.services.audit import note, record
from licensewatch.services.sessions import SESSION_LIFETIME, end_session, start_session
from licensewatch.services.sign_in import Refused, Scope
from licensewatch.services.sso import SsoService, SsoView
from licensewatch.web.auth import FormCaller, session_caller
from licensewatch.web.context import app_context
from licensewatch.web.security import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    new_login_csrf,
    set_cookie,
    tokens_match,
)
from licensewatch.web.templating import render

router = APIRouter()
_REFUSALS = {
    Scope.ACCOUNT_SOURCE: "Too many failed sign-ins for this account.",
    Scope.ACCOUNT: "Too many failed sign-ins for this account.",
    Scope.SOURCE: "Too many failed sign-ins from your address.",
    Scope.TOTAL: "Too many failed sign-ins on this server.",
}


def safe_next(target: str | None) -> str:
    """Only same-site paths: never an open redirect to another host."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _sso(request: Request) -> SsoView | None:
    return SsoService(app_context(request).engine).enabled_view()


def _form(request: Request, next_url: str, status_code: int = 200, **context: object) -> Response:
    token = new_login_csrf()
    sso = _sso(request)
    response = render(
        request,
        "login.html",
        None,
        status_code=status_code,
        login_csrf=token,
        next_url=next_url,
        no_accounts=count_accounts(app_context(request).engine) == 0 and sso is None,
        sso_enabled=sso is not None,
        local_admins_only=sso is not None and sso.local_sign_in == "admins",
        **context,
    )
    set_cookie(request, response, LOGIN_CSRF_COOKIE, token, max_age=3600)
    return response


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    if session_caller(request) is not None:
        return RedirectResponse(safe_next(next), 303)
    return _form(request, safe_next(next))


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form(max_length=150)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    try:
        return _sign_in(request, username, password, csrf_token, next)
    except OperationalError:
        # SQLite has one writer: a sync publishing a large tenant can hold it longer than the
        # busy timeout. That is "try again shortly", not an internal error.
        response = _form(
            request,
            safe_next(next),
            503,
            error="The server is busy. Please try again in a minute.",
            username=username,
        )
        response.headers["Retry-After"] = "60"
        return response


def _sign_in(
    request: Request, username: str, password: str, csrf_token: str, next: str
) -> Response:
    context = app_context(request)
    next_url = safe_next(next)
    if not tokens_match(csrf_token, request.cookies.get(LOGIN_CSRF_COOKIE)):
        return _form(request, next_url, 403, error="The sign-in form expired. Please try again.")
    # The TCP peer, or the client a trusted proxy names (see LICENSEWATCH_TRUSTED_PROXIES).
    address = client_address(request)
    attempt = context.throttle.begin(username, address)
    if isinstance(attempt, Refused):
        minutes = (attempt.retry_after + 59) // 60
        response = _form(
            request,
            next_url,
            429,
            error=f"{_REFUSALS[attempt.scope]} Try again in {minutes} minute"
            + ("s." if minutes != 1 else "."),
            username=username,
        )
        response.headers["Retry-After"] = str(attempt.retry_after)
        return response
    with context.throttle.checks:
        principal = authenticate(context.engine, username, password)
    if principal is None:
        # The attempt's row stays: it is the failure the throttle counts.
        # The name typed is kept only when it is an account's: people type passwords there too.
        actor = username if account_exists(context.engine, username) else None
        record(context.engine, "local.sign_in", actor, address, "refused", "wrong password")
        return _form(request, next_url, 401, error="Wrong username or password.", username=username)
    context.throttle.succeeded(attempt, username, address)
    sso = _sso(request)
    if sso is not None and sso.local_sign_in == "admins" and not principal.is_admin:
        # Once SSO works, local accounts are only the administrators' break-glass way in.
        record(context.engine, "local.sign_in", username, address, "refused", "SSO required")
        message = "Local sign-in is reserved for administrators: use Sign in with Microsoft."
        return _form(request, next_url, 403, error=message, username=username)
    record(context.engine, "local.sign_in", principal.username, address, "ok", principal.role.value)
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        end_session(context.engine, old)
    response = RedirectResponse(next_url, 303)
    set_cookie(
        request,
        response,
        SESSION_COOKIE,
        start_session(context.engine, principal),
        max_age=int(SESSION_LIFETIME.total_seconds()),
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


@router.post("/logout")
def logout(request: Request, caller: FormCaller) -> Response:
    raw = request.cookies.get(SESSION_COOKIE)
    if raw:
        end_session(app_context(request).engine, raw)
    note(app_context(request).engine, "local.sign_out")
    response = RedirectResponse("/login", 303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
