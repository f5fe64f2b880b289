"""Build change plan lines by hand (users × SKU) from the stored licences, with each saving."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Engine, func, or_, select
from sqlalchemy.orm import Session

from licensewatch.domain.identifiers import InvalidInput
from licensewatch.domain.plans import LineAction, LineSpec, map_disabled_plans, split_plans
from licensewatch.intelligence.catalog import product_names
from licensewatch.intelligence.prices import Price, load_prices, unit_price
from licensewatch.intelligence.product_lookup import resolve_product
from licensewatch.services.plans import NewLine
from licensewatch.services.tenant_lookup import tenant_by_name
from licensewatch.storage.database import session_scope
from licensewatch.storage.models import Group, GroupLicense, Sku, SkuServicePlan, User, UserLicense
from licensewatch.storage.models.tenants import Tenant

MAX_USERS = 5000  # one plan is reviewed by a person: a bigger one is split
_SHOWN = 10


@dataclass(frozen=True, slots=True)
class Saving:
    monthly: Decimal | None
    currency: str | None


def read_user_keys(text: str) -> list[str]:
    """User principal names or object ids, one a line (first CSV field); blanks and lines
    starting with # are skipped (only there: a guest's UPN holds #EXT#)."""
    keys: list[str] = []
    for raw in text.splitlines():
        if raw.lstrip().startswith("#"):
            continue
        value = raw.split(",", 1)[0].strip().strip('"')
        if value and value.lower() not in ("userprincipalname", "user", "upn", "id"):
            keys.append(value)
    if not keys:
        raise InvalidInput("the users file names nobody: one userPrincipalName or id per line")
    if len(keys) > MAX_USERS:
        raise InvalidInput(f"at most {MAX_USERS} users per plan: split the file")
    return list(dict.fromkeys(keys))


def saving(prices: dict[str, Price], parts: dict[str, str], spec: LineSpec) -> Saving:
    """What a line saves per month: the removed unit, less the added one (a swap)."""
    if spec.action is LineAction.REMOVE_DUPLICATE:
        return Saving(Decimal(0), None)  # the user keeps the SKU from the group: one unit still
    removed, currency = unit_price(prices, spec.sku_id, parts.get(spec.sku_id))
    if removed is None:
        return Saving(None, None)
    if spec.action is LineAction.SWAP and spec.target_sku_id:
        added, other = unit_price(prices, spec.target_sku_id, parts.get(spec.target_sku_id))
        if added is None or (other and currency and other != currency):
            return Saving(None, None)
        return Saving((removed - added).quantize(Decimal("0.01")), currency or other)
    if spec.action is LineAction.ADD:
        return Saving(-removed.quantize(Decimal("0.01")), currency)
    return Saving(removed.quantize(Decimal("0.01")), currency)


def _tenant_sku(session: Session, tenant: Tenant, key: str, option: str) -> str:
    try:
        sku_id, _ = resolve_product(session, key)
    except ValueError as error:
        raise InvalidInput(f"{option}: {error}") from None
    held = session.scalar(
        select(Sku.sku_id).where(Sku.tenant_id == tenant.id, Sku.sku_id == sku_id)
    )
    if held is None:
        raise InvalidInput(f"{option}: tenant {tenant.name} has no subscription of {key!r}")
    return sku_id


def service_plans(session: Session, tenant_pk: int, sku_id: str) -> dict[str, str]:
    rows = session.execute(
        select(SkuServicePlan.service_plan_id, SkuServicePlan.service_plan_name).where(
            SkuServicePlan.tenant_id == tenant_pk, SkuServicePlan.sku_id == sku_id
        )
    )
    return {plan_id.lower(): name or "" for plan_id, name in rows}


def _users(session: Session, tenant: Tenant, keys: list[str]) -> dict[str, User]:
    lowered = [k.lower() for k in keys]
    found = session.scalars(
        select(User).where(
            User.dataset_id == tenant.dataset_id,
            or_(func.lower(User.user_principal_name).in_(lowered), User.id.in_(lowered)),
        )
    ).all()
    by_key: dict[str, User] = {}
    for user in found:
        by_key[user.id.lower()] = user
        by_key[(user.user_principal_name or "").lower()] = user
    missing = [k for k in keys if k.lower() not in by_key]
    if missing:
        shown = ", ".join(missing[:_SHOWN]) + (" …" if len(missing) > _SHOWN else "")
        raise InvalidInput(
            f"{len(missing)} users are not in tenant {tenant.name}'s last sync: {shown} "
            "(check the spelling, or sync first)"
        )
    return by_key


def manual_lines(
    engine: Engine,
    tenant_name: str,
    sku_key: str,
    user_keys: Iterable[str],
    target_key: str | None = None,
) -> list[NewLine]:
    """Lines removing (or, with a target, swapping) a SKU for these users, checked now."""
    keys = list(user_keys)
    with session_scope(engine, write=False) as session:
        tenant = tenant_by_name(session, tenant_name)
        if tenant.dataset_id is None:
            raise InvalidInput(f"tenant {tenant_name} was never synced: `licensewatch sync` first")
        sku_id = _tenant_sku(session, tenant, sku_key, "--remove")
        target = _tenant_sku(session, tenant, target_key, "--to") if target_key else None
        if target == sku_id:
            raise InvalidInput("--to names the SKU being removed: pick another")
        users = _users(session, tenant, keys)
        prices = load_prices(session)
        parts = dict(
            session.execute(
                select(Sku.sku_id, Sku.sku_part_number).where(Sku.tenant_id == tenant.id)
            ).all()
        )
        names = product_names(session)
        source_plans = service_plans(session, tenant.id, sku_id)
        target_plans = service_plans(session, tenant.id, target) if target else {}
        group_names = dict(
            session.execute(
                select(Group.id, Group.display_name).where(Group.tenant_id == tenant.id)
            ).all()
        )
        grouped = set(
            session.scalars(
                select(GroupLicense.group_id).where(
                    GroupLicense.tenant_id == tenant.id, GroupLicense.sku_id == sku_id
                )
            )
        )
        lines, problems = [], []
        for key in keys:
            user = users[key.lower()]
            rows = session.execute(
                select(UserLicense.assigned_by_group, UserLicense.disabled_plans).where(
                    UserLicense.dataset_id == tenant.dataset_id,
                    UserLicense.user_id == user.id,
                    UserLicense.sku_id == sku_id,
                )
            ).all()
            direct = [plans for group, plans in rows if group is None]
            groups = [group for group, _ in rows if group is not None and group in grouped]
            who = user.user_principal_name or user.id
            if not direct:
                if groups:
                    named = ", ".join(repr(group_names.get(g) or g) for g in groups)
                    problems.append(f"{who} gets it from group {named} only")
                else:
                    problems.append(f"{who} does not hold it")
                continue
            if groups and target is None:
                spec = LineSpec(LineAction.REMOVE_DUPLICATE, sku_id)
                reason = "direct duplicate of a group licence"
            elif target is not None:
                carried = map_disabled_plans(split_plans(direct[0]), source_plans, target_plans)
                spec = LineSpec(LineAction.SWAP, sku_id, target, carried)
                reason = f"swap to {names.display_name(target, parts.get(target, target))}"
            else:
                spec, reason = LineSpec(LineAction.REMOVE, sku_id), "removed by hand"
            found = saving(prices, parts, spec)
            lines.append(
                NewLine(
                    user.id, user.user_principal_name, spec, reason, found.monthly, found.currency
                )
            )
        if problems:
            shown = "; ".join(problems[:_SHOWN]) + (" …" if len(problems) > _SHOWN else "")
            product = names.display_name(sku_id, parts.get(sku_id, sku_id))
            raise InvalidInput(
                f"{len(problems)} users cannot lose {product} directly: {shown}. Licences "
                "inherited from a group change with the group's membership or licences"
            )
        return lines
