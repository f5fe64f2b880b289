"""Tenants: the list, one tenant's settings (admin), testing, credential rotation, removal."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.responses import Response

from licensewatch.domain.identifiers import InvalidInput
from licensewatch.graph.diagnostics import DiagnosticReport
from licensewatch.services.tenants import TenantNotFound, TenantSettings, TenantView
from licensewatch.web.auth import AdminForm, Caller, PageAdmin
from licensewatch.web.context import reader
from licensewatch.web.pages.onboarding import credential_form, tenant_service
from licensewatch.web.templating import render

router = APIRouter()
Reader = Annotated[Session, Depends(reader)]


def _view(request: Request, name: str) -> TenantView:
    try:
        return tenant_service(request).show(name)
    except TenantNotFound:
        raise HTTPException(404, f"No tenant named {name!r}.") from None


def _detail(
    request: Request,
    caller: Caller,
    view: TenantView,
    *,
    report: DiagnosticReport | None = None,
    error: str | None = None,
    notice: str = "",
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "tenant.html",
        caller,
        status_code=status_code,
        tenant=view,
        report=report,
        error=error,
        notice=notice,
    )


@router.get("/tenants/{name}")
def tenant_page(name: str, request: Request, caller: PageAdmin, notice: str = "") -> Response:
    return _detail(request, caller, _view(request, name), notice=notice)


@router.post("/tenants/{name}/test")
async def test_tenant(name: str, request: Request, caller: AdminForm) -> Response:
    view = await run_in_threadpool(_view, request, name)
    service = tenant_service(request)
    try:
        report = await run_in_threadpool(service.test, name)
    except InvalidInput as error:
        return _detail(request, caller, view, error=str(error), status_code=422)
    if report.ok:
        await run_in_threadpool(service.record_identity, name, report.tenant_id)
        view = await run_in_threadpool(_view, request, name)
    return _detail(request, caller, view, report=report)


@router.post("/tenants/{name}/credential")
async def replace_credential(name: str, request: Request, caller: AdminForm) -> Response:
    view = await run_in_threadpool(_view, request, name)
    try:
        credential = (await credential_form(await request.form())).parse()
        await run_in_threadpool(
            tenant_service(request).update, name, TenantSettings(credential=credential)
        )
    except (InvalidInput, ValueError) as error:
        return _detail(request, caller, view, error=str(error), status_code=422)
    return RedirectResponse(f"/tenants/{quote(name)}?notice=credential", 303)


@router.get("/tenants/{name}/remove")
def confirm_remove(name: str, request: Request, caller: PageAdmin) -> Response:
    return render(request, "remove.html", caller, tenant=_view(request, name), error=None)


@router.post("/tenants/{name}/remove")
async def remove_tenant(name: str, request: Request, caller: AdminForm) -> Response:
    view = await run_in_threadpool(_view, request, name)
    typed = (await request.form()).get("confirm_name")
    if typed != view.name:
        return render(
            request,
            "remove.html",
            caller,
            status_code=422,
            tenant=view,
            error="Type the tenant's name exactly to confirm.",
        )
    await run_in_threadpool(tenant_service(request).remove, name)
    return RedirectResponse("/tenants?notice=removed", 303)
