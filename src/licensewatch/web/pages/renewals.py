"""The renewals page: the calendar, the renewal plan and the subscriptions; plan downloads."""

from __future__ import annotations

import io
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from licensewatch.intelligence.renewals import PLAN_COLUMNS, RenewalPlan, renewal_plans
from licensewatch.storage.models.base import utcnow
from licensewatch.tabular import write_csv, xlsx_bytes
from licensewatch.web import scope
from licensewatch.web.auth import PageCaller
from licensewatch.web.context import engine_of, reader
from licensewatch.web.queries.common import tenant_refs

router = APIRouter()
Reader = Annotated[Session, Depends(reader)]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def visible_plans(request: Request, session: Session, tenant: str) -> list[RenewalPlan]:
    """The plans of the chosen tenant, or of every tenant the caller may see (404 otherwise)."""
    chosen = scope.chosen(tenant_refs(session), tenant)
    engine = engine_of(request)
    plans = [plan for ref in chosen for plan in renewal_plans(engine, ref.name)]
    plans.sort(key=lambda p: (p.renews_at, p.tenant.lower(), p.product.lower()))
    return plans


@router.get("/renewals/plan.{fmt}")
def plan_download(
    fmt: Literal["csv", "xlsx"],
    request: Request,
    caller: PageCaller,
    session: Reader,
    tenant: str = "",
) -> Response:
    rows = [plan.cells() for plan in visible_plans(request, session, tenant)]
    stem = f"licensewatch-renewal-plan-{tenant or 'all'}-{utcnow():%Y%m%d-%H%M}"
    if fmt == "xlsx":
        body = xlsx_bytes("renewal plan", PLAN_COLUMNS, rows)
        disposition = f'attachment; filename="{stem}.xlsx"'
        return Response(body, media_type=XLSX, headers={"content-disposition": disposition})
    out = io.StringIO()
    out.write("\ufeff")  # a BOM so Excel opens the UTF-8 file with the right encoding
    write_csv(out, PLAN_COLUMNS, rows)
    disposition = f'attachment; filename="{stem}.csv"'
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": disposition},
    )
