"""Onboarding a tenant (admin): the form with the Entra walkthrough, Test connection, and save."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData
from starlette.responses import Response

from licensewatch.domain.identifiers import InvalidInput
from licensewatch.graph.clouds import Cloud
from licensewatch.graph.diagnostics import DiagnosticReport, diagnose
from licensewatch.services.tenants import TenantService, TenantSettings
from licensewatch.storage.encrypted import keyring_for
from licensewatch.web.auth import AdminForm, Caller, PageAdmin
from licensewatch.web.context import app_context
from licensewatch.web.forms import CredentialForm, TenantForm, read_upload
from licensewatch.web.templating import render

router = APIRouter()


def tenant_service(request: Request) -> TenantService:
    context = app_context(request)
    return TenantService(context.engine, keyring_for(context.engine, context.settings))


def _text(form: FormData, key: str) -> str:
    value = form.get(key)
    return value.strip() if isinstance(value, str) else ""


async def credential_form(form: FormData) -> CredentialForm:
    secret = form.get("client_secret")
    password = form.get("certificate_password")
    return CredentialForm(
        kind=_text(form, "credential_kind") or "secret",
        secret=secret if isinstance(secret, str) else "",
        secret_expires=_text(form, "secret_expires"),
        certificate=await read_upload(form.get("certificate")),
        private_key=await read_upload(form.get("private_key")),
        password=password if isinstance(password, str) else "",
    )


def _page(
    request: Request,
    caller: Caller,
    form: TenantForm,
    *,
    error: str | None = None,
    report: DiagnosticReport | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "onboarding.html",
        caller,
        status_code=status_code,
        form=form,
        clouds=[c.value for c in Cloud],
        error=error,
        report=report,
    )


@router.get("/tenants/new")
def new_tenant(request: Request, caller: PageAdmin) -> Response:
    return _page(request, caller, TenantForm())


@router.post("/tenants/new")
async def create_tenant(request: Request, caller: AdminForm) -> Response:
    raw = await request.form()
    form = TenantForm(
        name=_text(raw, "name"),
        tenant_id=_text(raw, "tenant_id"),
        client_id=_text(raw, "client_id"),
        cloud=_text(raw, "cloud") or Cloud.GLOBAL.value,
        authority_host=_text(raw, "authority_host"),
        graph_endpoint=_text(raw, "graph_endpoint"),
        ca_bundle=_text(raw, "ca_bundle"),
    )
    action = _text(raw, "action")
    try:
        form.credential = await credential_form(raw)
        credential = form.credential.parse()
        connection = form.connection(credential)
    except (InvalidInput, ValueError) as error:
        return _page(request, caller, form, error=str(error), status_code=422)
    if action == "test":
        report = await run_in_threadpool(diagnose, connection)
        return _page(request, caller, form, report=report)
    spec = TenantSettings(
        name=form.name,
        tenant_id=form.tenant_id,
        client_id=form.client_id,
        credential=credential,
        cloud=Cloud(form.cloud),
        authority_host=form.authority_host or None,
        graph_endpoint=form.graph_endpoint or None,
        ca_bundle=form.ca_bundle or None,
        ca_bundle_from_web=True,
    )
    service = tenant_service(request)
    try:
        view = await run_in_threadpool(service.add, spec)
    except (InvalidInput, ValueError) as error:
        return _page(request, caller, form, error=str(error), status_code=422)
    return RedirectResponse(f"/tenants/{quote(view.name)}?notice=added", 303)
