"""API: the renewal plan per renewing subscription and its calendar by month."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel
from sqlalchemy.orm import Session

from licensewatch.intelligence.renewal_calendar import calendar
from licensewatch.intelligence.renewals import RenewalPlan
from licensewatch.storage.models.base import utcnow
from licensewatch.web.auth import ApiCaller
from licensewatch.web.context import reader
from licensewatch.web.pages.renewals import visible_plans
from licensewatch.web.queries.common import tenant_refs

router = APIRouter(tags=["renewals"])
Reader = Annotated[Session, Depends(reader)]


class Plan(BaseModel):
    """The plans, soonest first, and the next twelve months (then "later") they fall in."""

    plans: list[RenewalPlan]
    calendar: list[dict[str, Any]]


@router.get("/renewals/plan", response_model=Plan)
def get_renewal_plan(
    request: Request, caller: ApiCaller, session: Reader, tenant: str | None = None
) -> Plan:
    """Per renewing subscription: units, assigned, reclaimable, growth, buffer, seats, saving."""
    if tenant and not tenant_refs(session, tenant):
        raise HTTPException(404, f"no tenant named {tenant!r}")
    plans = visible_plans(request, session, tenant or "")
    return Plan(plans=plans, calendar=[m.to_dict() for m in calendar(plans, utcnow())])
