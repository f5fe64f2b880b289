"""Pages for the product catalogue and prices (admin edits), alerts and reports."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from licensewatch.intelligence.alerts.evaluate import alert_log
from licensewatch.intelligence.alerts.rules import (
    AlertKind,
    add_rule,
    list_destinations,
    list_rules,
    remove_rule,
)
from licensewatch.intelligence.catalog import SeenProduct, seen_products, set_name
from licensewatch.intelligence.exclusions import exclude, exclusions, include
from licensewatch.intelligence.price_note import price_note
from licensewatch.intelligence.prices import load_prices, set_price
from licensewatch.intelligence.read_models.build import refresh_read_models
from licensewatch.intelligence.report_formats import (
    STYLE_HASH,
    XLSX_MIME,
    render_html,
    to_csv_zip,
    to_xlsx,
)
from licensewatch.intelligence.reports import build_report
from licensewatch.services.audit import note
from licensewatch.storage.database import session_scope
from licensewatch.storage.models import Tenant
from licensewatch.web import scope
from licensewatch.web.auth import AdminForm, PageCaller
from licensewatch.web.context import caller_scope, engine_of
from licensewatch.web.security import policy_with_style_hashes
from licensewatch.web.templating import render

router = APIRouter()


def visible_tenants(request: Request) -> list[str]:
    with session_scope(engine_of(request), write=False) as session:
        return scope.visible(request, session.scalars(select(Tenant.name).order_by(Tenant.name)))


def price_note_of(request: Request) -> str | None:
    with session_scope(engine_of(request), write=False) as session:
        return price_note(session)


def chosen_tenant(request: Request, tenant: str) -> str | None:
    if tenant and tenant not in visible_tenants(request):
        raise HTTPException(404, f"No tenant named {tenant!r}.")
    return tenant or None


def _one_for_report(request: Request, tenant: str) -> str | None:
    """A report covers one tenant or all; a viewer limited to some tenants picks one of them."""
    chosen = chosen_tenant(request, tenant)
    if chosen is None and caller_scope(request) is not None:
        names = visible_tenants(request)
        if len(names) != 1:
            raise HTTPException(422, "Choose a tenant for the report (?tenant=NAME).")
        return names[0]
    return chosen


def catalog_context(session: Session, products: list[SeenProduct]) -> dict[str, Any]:
    """The catalogue page's context around its products (GET: web/resources/intelligence.py)."""
    return {
        "products": products,
        "prices": load_prices(session),
        "excluded": exclusions(session),
        "price_note": price_note(session),
    }


def _catalog(request: Request, caller: Any, status_code: int = 200, **extra: Any) -> Response:
    """The page again after a refused change, with its error."""
    with session_scope(engine_of(request), write=False) as session:
        products = scope.seen_in_scope(request, seen_products(session))
        context = catalog_context(session, products)
    return render(request, "catalog.html", caller, status_code=status_code, **context, **extra)


async def _admin_change(
    request: Request, caller: Any, change: Callable[[dict[str, str]], Any], target: str
) -> Response:
    form = {k: str(v) for k, v in (await request.form()).items() if isinstance(v, str)}
    try:
        await run_in_threadpool(change, form)
    except (ValueError, LookupError) as error:
        if target == "/alerts":
            return _alerts(request, caller, 422, error=str(error))
        return _catalog(request, caller, 422, error=str(error))
    if target == "/catalog":  # a name, price or exclusion: findings and costs are rebuilt now
        await run_in_threadpool(refresh_read_models, engine_of(request))
    return RedirectResponse(target, 303)


@router.post("/catalog/name")
async def catalog_name(request: Request, caller: AdminForm) -> Response:
    engine = engine_of(request)
    return await _admin_change(
        request,
        caller,
        lambda f: set_name(engine, f.get("product", ""), f.get("name", "")),
        "/catalog",
    )


@router.post("/catalog/price")
async def catalog_price(request: Request, caller: AdminForm) -> Response:
    engine = engine_of(request)

    def change(form: dict[str, str]) -> None:
        set_price(
            engine,
            form.get("product", ""),
            form.get("amount", ""),
            form.get("currency", "EUR"),
            form.get("term", "monthly"),
        )

    return await _admin_change(request, caller, change, "/catalog")


@router.post("/catalog/exclusion")
async def catalog_exclusion(request: Request, caller: AdminForm) -> Response:
    engine = engine_of(request)

    def change(form: dict[str, str]) -> None:
        scope = form.get("scope", "")
        if scope:
            exclude(engine, form.get("product", ""), scope)
        else:
            include(engine, form.get("product", ""))

    return await _admin_change(request, caller, change, "/catalog")


def alerts_context(request: Request, session: Session) -> dict[str, Any]:
    """The alerts page's form choices around its rules and log (GET: web/resources)."""
    return {
        "destinations": [(d.name, d.kind, d.target) for d in list_destinations(session)],
        "kinds": [k.value for k in AlertKind],
        "tenants": visible_tenants(request),
    }


def _alerts(request: Request, caller: Any, status_code: int = 200, **extra: Any) -> Response:
    """The page again after a refused change, with its error."""
    engine = engine_of(request)
    with session_scope(engine, write=False) as session:
        context = {"rules": list_rules(session), "log": alert_log(engine, 100)}
        context |= alerts_context(request, session)
    return render(request, "alerts.html", caller, status_code=status_code, **context, **extra)


@router.post("/alerts/rules")
async def alerts_add(request: Request, caller: AdminForm) -> Response:
    engine = engine_of(request)

    def change(form: dict[str, str]) -> None:
        threshold = form.get("threshold", "").strip()
        add_rule(
            engine,
            form.get("kind", ""),
            form.get("destination", ""),
            tenant=form.get("tenant") or None,
            product=form.get("product") or None,
            threshold=float(threshold) if threshold else None,
            percent=form.get("percent") == "1",
        )

    return await _admin_change(request, caller, change, "/alerts")


@router.post("/alerts/rules/{rule_id}/remove")
async def alerts_remove(rule_id: int, request: Request, caller: AdminForm) -> Response:
    engine = engine_of(request)
    return await _admin_change(request, caller, lambda _f: remove_rule(engine, rule_id), "/alerts")


@router.get("/report")
def report_download(
    request: Request, caller: PageCaller, tenant: str = "", format: str = "html"
) -> Response:
    writers: dict[str, tuple[Callable[[Any], bytes], str, str]] = {
        "html": (lambda r: render_html(r).encode(), "text/html; charset=utf-8", "html"),
        "xlsx": (to_xlsx, XLSX_MIME, "xlsx"),
        "csv": (to_csv_zip, "application/zip", "zip"),
    }
    if format not in writers:
        raise HTTPException(422, "format must be html, xlsx or csv")
    write, mime, suffix = writers[format]
    report = build_report(engine_of(request), _one_for_report(request, tenant))
    detail = {"dataset": "report", "format": format, "tenant": tenant or "all"}
    note(engine_of(request), "export.downloaded", detail)
    stamp = f"{report.generated_at:%Y-%m-%d}" if isinstance(report.generated_at, datetime) else ""
    disposition = "inline" if format == "html" else "attachment"
    headers = {"Content-Disposition": f'{disposition}; filename="licensewatch-{stamp}.{suffix}"'}
    if format == "html":
        # The report's inline style (it is also an e-mail body) is allowed by its hash only.
        headers["Content-Security-Policy"] = policy_with_style_hashes(STYLE_HASH)
    return Response(write(report), media_type=mime, headers=headers)
