"""Server-rendered HTML pages, one router per concept."""

from __future__ import annotations

from fastapi import APIRouter

from licensewatch.web.pages import (
    accounts,
    apidocs,
    audit,
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
    users,
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
    users,
    changes,
    onboarding,
    tenants,
    accounts,
    audit,
    plans,
    downloads,
    apidocs,
)
for module in MODULES:
    router.include_router(module.router)
