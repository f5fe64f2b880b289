"""API: the audit log (administrators)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from licensewatch.services.audit import recent
from licensewatch.web.auth import ApiAdmin
from licensewatch.web.context import engine_of
from licensewatch.web.paging import Limit, Offset

router = APIRouter(tags=["audit"])


@router.get("/audit")
def get_audit(
    request: Request, caller: ApiAdmin, limit: Limit = 100, offset: Offset = 0
) -> list[dict[str, Any]]:
    """Every administrative action, sign-in and refusal, newest first (never a secret)."""
    return [event.to_dict() for event in recent(engine_of(request), limit, offset)]
