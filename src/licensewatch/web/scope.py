"""Tenant scope for routes that do not read through `queries.common.tenant_refs`.

A viewer can be limited to some tenants (an MSP's customer sees its own tenant only); every
page, API endpoint, export and report answers as if the other tenants did not exist (404 for
one asked by name, left out of every "all tenants" view).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from typing import TypeVar

from fastapi import HTTPException, Request

from licensewatch.intelligence.catalog import SeenProduct
from licensewatch.web.context import caller_scope
from licensewatch.web.queries.common import TenantRef

T = TypeVar("T")


def visible(request: Request, names: Iterable[str]) -> list[str]:
    """The tenant names the caller may see, in the given order."""
    allowed = caller_scope(request)
    return [n for n in names if allowed is None or n in allowed]


def check(request: Request, tenant: str | None) -> None:
    """404 for a tenant out of scope: as if it did not exist (no oracle of other customers)."""
    allowed = caller_scope(request)
    if tenant and allowed is not None and tenant not in allowed:
        raise HTTPException(404, f"No tenant named {tenant!r}.")


def per_tenant(
    request: Request, tenant: str | None, fetch: Callable[[str | None], list[T]]
) -> list[T]:
    """`fetch(tenant)`, or for "every tenant" of a scoped caller, one fetch per allowed tenant."""
    check(request, tenant)
    allowed = caller_scope(request)
    if tenant or allowed is None:
        return fetch(tenant)
    found: list[T] = []
    for name in sorted(allowed):
        try:
            found.extend(fetch(name))
        except LookupError:  # a tenant removed since the scope was set
            continue
    return found


def chosen(refs: list[TenantRef], tenant: str) -> list[TenantRef]:
    """The tenant a list page filters on (all visible ones when none); 404 when not visible."""
    picked = [r for r in refs if not tenant or r.name == tenant]
    if tenant and not picked:
        raise HTTPException(404, f"No tenant named {tenant!r}.")
    return picked


def seen_in_scope(request: Request, products: list[SeenProduct]) -> list[SeenProduct]:
    """Catalogue rows with only the visible tenants that have each product (none: left out)."""
    if caller_scope(request) is None:
        return products
    kept = (dataclasses.replace(p, tenants=visible(request, p.tenants)) for p in products)
    return [p for p in kept if p.tenants]
