"""Paging and tenant lookup shared by every read model."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from licensewatch.storage.models.tenants import Tenant

T = TypeVar("T")
MAX_LIMIT = 500


class Page(BaseModel, Generic[T]):
    """One page of a list; `has_more` comes from fetching one row more (no COUNT scan)."""

    items: list[T]
    limit: int
    offset: int
    has_more: bool
    total: int | None = None


class TenantRef(BaseModel):
    """A tenant's key facts for joins: id, name and the dataset readers follow."""

    id: int
    name: str
    dataset_id: int | None


def clamp(limit: int, offset: int) -> tuple[int, int]:
    """A sane limit (1..MAX_LIMIT) and a non-negative offset."""
    return max(1, min(limit, MAX_LIMIT)), max(0, offset)


def make_page(rows: list[T], limit: int, offset: int, total: int | None = None) -> Page[T]:
    """A page from `limit + 1` fetched rows."""
    return Page[T](
        items=rows[:limit], limit=limit, offset=offset, has_more=len(rows) > limit, total=total
    )


def tenant_refs(session: Session, name: str | None = None) -> list[TenantRef]:
    """All tenants by name, or the one named (empty when unknown)."""
    query = select(Tenant.id, Tenant.name, Tenant.dataset_id).order_by(Tenant.name)
    if name:
        query = query.where(Tenant.name == name)
    return [
        TenantRef(id=r.id, name=r.name, dataset_id=r.dataset_id) for r in session.execute(query)
    ]


def like_pattern(text: str) -> str:
    """A case-insensitive LIKE pattern for a substring, with LIKE's wildcards escaped."""
    escaped = text.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
