"""The REST API under /api/v1: JSON twins of the pages, built from the same read models."""

from __future__ import annotations

from fastapi import APIRouter

from licensewatch.web.api import (
    audit,
    changes,
    inventory,
    plans,
    renewals,
    runs,
    savings,
    tenants,
    users,
)

router = APIRouter(prefix="/api/v1")
for module in (tenants, inventory, renewals, savings, users, runs, changes, audit, plans):
    router.include_router(module.router)
