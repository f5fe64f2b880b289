"""Sign in with Microsoft: `/auth/login` sends the browser to Entra ID, `/auth/callback` returns."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from licensewatch.graph.oidc import SignInError
from licensewatch.services.audit import record
from licensewatch.services.sessions import SESSION_LIFETIME, end_session, start_session
from licensewatch.services.sso import PENDING_LIFETIME, SsoService
from licensewatch.storage.encrypted import keyring_for
from licensewatch.web.context import app_context
from licensewatch.web.pages.login import client_address, safe_next
from licensewatch.web.security import SESSION_COOKIE, set_cookie
from licensewatch.web.templating import render

router = APIRouter()
SSO_COOKIE = "lw_sso"
CALLBACK_PATH = "/auth/callback"
ANSWER_FIELDS = frozenset({"code", "state", "session_state", "error", "error_description"})


def sso_service(request: Request) -> SsoService:
    context = app_context(request)
    return SsoService(context.engine, keyring_for(context.engine, context.settings))


def callback_url(request: Request) -> str:
    """The redirect URI registered in Entra: the public URL when set (behind a proxy)."""
    public = app_context(request).settings.public_url
    base = public.rstrip("/") if public else f"{request.url.scheme}://{request.url.netloc}"
    return base + CALLBACK_PATH


def _refused(request: Request, error: SignInError) -> Response:
    status = 403 if error.reason in ("no_role", "tenant", "disabled_account") else 401
    return render(request, "sso_error.html", None, status_code=status, message=error.message)


@router.get("/auth/login")
def sso_login(request: Request, next: str = "/") -> Response:
    service = sso_service(request)
    if service.enabled_view() is None:
        return RedirectResponse("/login", 303)
    try:
        cookie, authorize_url = service.begin(callback_url(request), safe_next(next))
    except SignInError as exc:
        return _refused(request, exc)
    response = RedirectResponse(authorize_url, 302)
    set_cookie(request, response, SSO_COOKIE, cookie, int(PENDING_LIFETIME.total_seconds()))
    return response


@router.post(CALLBACK_PATH)
async def sso_answer(request: Request) -> Response:
    """Entra's form_post: a cross-site POST without our cookies, so keep it and come back."""
    form = await request.form()
    answer = {k: v for k, v in form.items() if isinstance(v, str) and k in ANSWER_FIELDS}
    state = sso_service(request).keep_answer(answer)
    if state is None:
        error = SignInError("state", "This answer from Entra ID belongs to no sign-in under way")
        record(
            app_context(request).engine,
            "sso.sign_in",
            None,
            client_address(request),
            "refused",
            f"state: {error}",
        )
        return _refused(request, error)
    # A top-level GET: the browser now sends its SameSite=Lax cookie with it.
    return RedirectResponse(f"{CALLBACK_PATH}?{urlencode({'state': state})}", 303)


@router.get(CALLBACK_PATH)
def sso_callback(request: Request, state: str = "") -> Response:
    service = sso_service(request)
    try:
        principal, next_url = service.complete(
            request.cookies.get(SSO_COOKIE), state, client_address(request)
        )
    except SignInError as exc:
        response = _refused(request, exc)
        response.delete_cookie(SSO_COOKIE, path="/")
        return response
    engine = app_context(request).engine
    old = request.cookies.get(SESSION_COOKIE)
    if old:  # a new session id at every sign-in (no session fixation)
        end_session(engine, old)
    response = RedirectResponse(safe_next(next_url), 303)
    lifetime = int(SESSION_LIFETIME.total_seconds())
    set_cookie(request, response, SESSION_COOKIE, start_session(engine, principal), lifetime)
    response.delete_cookie(SSO_COOKIE, path="/")
    return response
