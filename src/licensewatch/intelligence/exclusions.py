"""Exclusions: products from findings and alerts; users and licensed groups from recommendations."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from licensewatch.intelligence.catalog import resolve_product
from licensewatch.services.audit import append
from licensewatch.storage.database import session_scope
from licensewatch.storage.models import Group, utcnow
from licensewatch.storage.models.intelligence import ExclusionScope, ProductExclusion
from licensewatch.storage.models.usage import RecommendationExclusion


def exclude(engine: Engine, key: str, scope: str | ExclusionScope) -> tuple[str, str | None]:
    """Exclude a product (SKU id or part number) everywhere or from alerts only."""
    value = ExclusionScope(str(scope))
    with session_scope(engine) as session:
        sku_id, part = resolve_product(session, key)
        row = session.get(ProductExclusion, sku_id)
        if row is None:
            session.add(ProductExclusion(sku_id=sku_id, part_number=part, scope=value.value))
        else:
            row.scope = value.value
        append(session, "exclusion.set", {"sku_id": sku_id, "product": part, "scope": value.value})
        return sku_id, part


def include(engine: Engine, key: str) -> bool:
    """Remove a product's exclusion; True when there was one."""
    with session_scope(engine) as session:
        sku_id, _ = resolve_product(session, key)
        row = session.get(ProductExclusion, sku_id)
        if row is not None:
            session.delete(row)
            append(session, "exclusion.removed", {"sku_id": sku_id, "product": row.part_number})
        return row is not None


def exclusions(session: Session) -> dict[str, ExclusionScope]:
    """Every excluded SKU id with its scope."""
    rows = session.execute(select(ProductExclusion.sku_id, ProductExclusion.scope))
    return {sku_id: ExclusionScope(scope) for sku_id, scope in rows}


def excluded_ids(session: Session, *, for_alerts: bool) -> set[str]:
    """SKU ids to ignore: findings ignore `everywhere`, alerts ignore both scopes."""
    return {
        sku_id
        for sku_id, scope in exclusions(session).items()
        if for_alerts or scope == ExclusionScope.EVERYWHERE
    }


# ---- users and licensed groups that recommendations leave alone ---------------------------------


class ExclusionKind(StrEnum):
    USER = "user"
    GROUP = "group"


@dataclass(frozen=True)
class HolderExclusions:
    """Lower-cased UPNs and group ids whose users get no recommendation."""

    users: frozenset[str]
    groups: frozenset[str]


def _group_key(session: Session, key: str) -> tuple[str, str]:
    """(group id, display name) of a licensed group named by id or display name, in any tenant."""
    wanted = key.strip()
    rows = session.execute(select(Group.id, Group.display_name)).all()
    exact = [(gid, name) for gid, name in rows if gid.lower() == wanted.lower()]
    named = [(gid, name) for gid, name in rows if (name or "").lower() == wanted.lower()]
    found = exact or named
    if not found:
        raise ValueError(
            f"no licensed group {key!r}: give the id or display name of a group that hands out "
            "licences (licensewatch reads licensed groups only)"
        )
    if len({gid for gid, _ in found}) > 1:
        raise ValueError(f"several groups are named {key!r}: give the group's id instead")
    gid, name = found[0]
    return gid, name or gid


def exclude_holder(engine: Engine, kind: str | ExclusionKind, key: str) -> str:
    """Leave a user (UPN) or a licensed group's members out of recommendations; returns a label."""
    value = ExclusionKind(str(kind))
    with session_scope(engine) as session:
        if value == ExclusionKind.USER:
            upn = key.strip()
            if "@" not in upn:
                raise ValueError(f"{key!r} is not a userPrincipalName (name@domain)")
            stored, label = upn.lower(), upn
        else:
            stored, label = _group_key(session, key)
        row = session.get(RecommendationExclusion, (value.value, stored))
        if row is None:
            session.add(
                RecommendationExclusion(
                    kind=value.value, key=stored, label=label[:400], created_at=utcnow()
                )
            )
        return label


def include_holder(engine: Engine, kind: str | ExclusionKind, key: str) -> bool:
    """Stop excluding a user or group; True when it was excluded."""
    value = ExclusionKind(str(kind))
    wanted = key.strip().lower()
    with session_scope(engine) as session:
        rows = session.scalars(
            select(RecommendationExclusion).where(RecommendationExclusion.kind == value.value)
        ).all()
        matches = [r for r in rows if wanted in (r.key.lower(), (r.label or "").lower())]
        for row in matches:
            session.delete(row)
        return bool(matches)


def holder_exclusions(session: Session) -> HolderExclusions:
    rows = session.execute(select(RecommendationExclusion.kind, RecommendationExclusion.key)).all()
    users = frozenset(key for kind, key in rows if kind == ExclusionKind.USER.value)
    groups = frozenset(key for kind, key in rows if kind == ExclusionKind.GROUP.value)
    return HolderExclusions(users, groups)


def list_holder_exclusions(session: Session) -> list[tuple[str, str, str]]:
    """(kind, key, label) of every excluded user and group."""
    rows = session.execute(
        select(
            RecommendationExclusion.kind, RecommendationExclusion.key, RecommendationExclusion.label
        ).order_by(RecommendationExclusion.kind, RecommendationExclusion.key)
    )
    return [(kind, key, label or key) for kind, key, label in rows]
