"""Accounts (admin: create, disable) and one's own API tokens (shown once at creation)."""

from __future__ import annotations

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
    set_disabled,
)
from licensewatch.storage.models.accounts import Role
from licensewatch.web.auth import AdminForm, Caller, FormCaller, PageAdmin, PageCaller
from licensewatch.web.context import engine_of
from licensewatch.web.templating import render

router = APIRouter()


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


def _me(request: Request, caller: Caller, status_code: int = 200, **context: object) -> Response:
    tokens = list_tokens(engine_of(request), caller.principal.username)
    return render(request, "me.html", caller, status_code=status_code, tokens=tokens, **context)


@router.get("/me")
def me_page(request: Request, caller: PageCaller) -> Response:
    return _me(request, caller)


@router.post("/me/tokens")
async def add_token(request: Request, caller: FormCaller) -> Response:
    name = str((await request.form()).get("name") or "").strip()[:100] or "token"
    token = await run_in_threadpool(
        create_token, engine_of(request), caller.principal.username, name
    )
    return _me(request, caller, new_token=token)
