"""The REST API under /api/v1: its writes (its reads are the pages' twins, web/resources)."""

from __future__ import annotations

from fastapi import APIRouter

from licensewatch.web.api import plans, runs

router = APIRouter(prefix="/api/v1")
for module in (runs, plans):
    router.include_router(module.router)
