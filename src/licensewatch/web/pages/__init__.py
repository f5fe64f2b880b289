"""Server-rendered HTML pages, one router per concept."""

from __future__ import annotations

from fastapi import APIRouter

from licensewatch.web.pages import (
    accounts,
    apidocs,
    changes,
    dashboard,
    downloads,
    health,
    inventory,
    login,
    onboarding,
    plans,
    renewals,
    savings,
    sso,
    tenants,
)

router = APIRouter()
# onboarding before tenants: `/tenants/new` must win over `/tenants/{name}`.
MODULES = (
    login,
    sso,
    health,
    dashboard,
    inventory,
    renewals,
    savings,
    changes,
    onboarding,
    tenants,
    accounts,
    plans,
    downloads,
    apidocs,
)
for module in MODULES:
    router.include_router(module.router)
