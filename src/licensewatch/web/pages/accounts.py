"""Accounts (admin: create, disable, revoke tokens) and one's own API tokens (create, revoke)."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from licensewatch.services.accounts import (
    AccountError,
    create_account,
    create_token,
    list_accounts,
    list_tokens,
    revoke_token,
    revoke_tokens_of,
    set_disabled,
)
from licensewatch.storage.models.accounts import Role
from licensewatch.web.auth import AdminForm, Caller, FormCaller, PageAdmin, PageCaller
from licensewatch.web.context import engine_of
from licensewatch.web.templating import render

router = APIRouter()
# Days a new token lives (0: never); 90 is preselected, as the CLI's default.
EXPIRY_CHOICES = [(30, "30 days"), (90, "90 days"), (365, "1 year"), (0, "never")]


def _accounts(
    request: Request, caller: Caller, status_code: int = 200, **context: object
) -> Response:
    accounts = list_accounts(engine_of(request))
    return render(
        request, "accounts.html", caller, status_code=status_code, accounts=accounts, **context
    )


@router.get("/accounts")
def accounts_page(request: Request, caller: PageAdmin) -> Response:
    return _accounts(request, caller)


@router.post("/accounts")
async def add_account(request: Request, caller: AdminForm) -> Response:
    form = await request.form()
    username = str(form.get("username") or "")
    role = Role.ADMIN if form.get("role") == "admin" else Role.VIEWER
    try:
        password = await run_in_threadpool(create_account, engine_of(request), username, role)
    except AccountError as error:
        return _accounts(request, caller, 422, error=str(error))
    return _accounts(request, caller, created=(username.strip(), password))


@router.post("/accounts/{username}/disable")
async def disable_account(username: str, request: Request, caller: AdminForm) -> Response:
    if username == caller.principal.username:
        return _accounts(request, caller, 422, error="You cannot disable your own account.")
    enable = (await request.form()).get("enable") == "1"
    try:
        await run_in_threadpool(set_disabled, engine_of(request), username, disabled=not enable)
    except AccountError as error:
        return _accounts(request, caller, 404, error=str(error))
    return RedirectResponse("/accounts", 303)


@router.post("/accounts/{username}/tokens/revoke")
async def revoke_account_tokens(username: str, request: Request, caller: AdminForm) -> Response:
    try:
        count = await run_in_threadpool(revoke_tokens_of, engine_of(request), username)
    except AccountError as error:
        return _accounts(request, caller, 404, error=str(error))
    return _accounts(request, caller, notice=f"{count} API token(s) of {username} revoked.")


def _me(request: Request, caller: Caller, status_code: int = 200, **context: object) -> Response:
    tokens = list_tokens(engine_of(request), caller.principal.username)
    return render(
        request,
        "me.html",
        caller,
        status_code=status_code,
        tokens=tokens,
        expiry_choices=EXPIRY_CHOICES,
        **context,
    )


@router.get("/me")
def me_page(request: Request, caller: PageCaller) -> Response:
    return _me(request, caller)


@router.post("/me/tokens")
async def add_token(request: Request, caller: FormCaller) -> Response:
    form = await request.form()
    name = str(form.get("name") or "").strip()[:100] or "token"
    days = {str(d): d for d, _ in EXPIRY_CHOICES}.get(str(form.get("expires_days") or "90"))
    if days is None:
        return _me(request, caller, 422, error="Choose one of the offered expiries.")
    token = await run_in_threadpool(
        lambda: create_token(
            engine_of(request),
            caller.principal.username,
            name,
            expires_in=timedelta(days=days) if days else None,
        )
    )
    return _me(request, caller, new_token=token)


@router.post("/me/tokens/{token_id}/revoke")
async def revoke_own_token(token_id: int, request: Request, caller: FormCaller) -> Response:
    try:
        # Only one's own: another account's token id is "not found", not "forbidden".
        await run_in_threadpool(
            revoke_token, engine_of(request), token_id, caller.principal.username
        )
    except AccountError:
        return _me(request, caller, 404, error="No such token of yours.")
    return _me(request, caller, notice="Token revoked: it is refused from now on.")
