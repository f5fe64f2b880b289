"""Assignment findings: direct+group duplicates, overlapping products, group-licensing errors."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, literal, or_, select
from sqlalchemy.orm import aliased

from licensewatch.intelligence.findings.base import (
    ASSIGNED_STATES,
    Context,
    Finding,
    FindingRule,
    user_finding,
)
from licensewatch.storage.models import Group, Sku, SkuServicePlan, User, UserLicense

DUPLICATE_FIX = (
    "Remove the direct assignment and keep the group one: otherwise removing the person from "
    "the group does not free the seat, and disabled plans may differ between the two."
)
OVERLAP_FIX = (
    "Remove the smaller product: every one of its service plans is already included in the "
    "larger product the user holds, so it is paid twice."
)
ERROR_FIX = (
    "CountViolation: buy seats or free some; MutuallyExclusiveViolation: the product conflicts "
    "with another the user holds (remove one, or disable the conflicting plan in the group); "
    "DependencyViolation: a plan that another product needs would be removed (keep it assigned "
    "another way, or disable the dependent plan first); ProhibitedInUsageLocationViolation: the "
    "product is not sold in the user's usage location (set the right usage location); "
    "UniquenessViolation: a duplicate proxy address; Other: see the user's licence blade. "
    "Reprocess the group afterwards (Entra ID > Groups > <group> > Licenses)."
)


def direct_and_group(context: Context) -> Finding:
    """Users who hold the same product directly and through a group."""
    direct, grouped = aliased(UserLicense), aliased(UserLicense)
    group_name = func.coalesce(Group.display_name, grouped.assigned_by_group)
    statement = (
        select(User.user_principal_name, User.display_name, direct.sku_id, Sku.sku_part_number)
        .add_columns(group_name)
        .join(direct, and_(direct.dataset_id == User.dataset_id, direct.user_id == User.id))
        .join(
            grouped,
            and_(
                grouped.dataset_id == direct.dataset_id,
                grouped.user_id == direct.user_id,
                grouped.sku_id == direct.sku_id,
                grouped.assigned_by_group.is_not(None),
                grouped.state.in_(ASSIGNED_STATES),
            ),
        )
        .outerjoin(Sku, and_(Sku.tenant_id == context.tenant_pk, Sku.sku_id == direct.sku_id))
        .outerjoin(
            Group, and_(Group.tenant_id == context.tenant_pk, Group.id == grouped.assigned_by_group)
        )
        .where(
            User.dataset_id == context.dataset_id,
            direct.assigned_by_group.is_(None),
            direct.state.in_(ASSIGNED_STATES),
        )
        .order_by(User.user_principal_name, direct.sku_id, group_name)
    )
    if context.only is not None:
        statement = statement.where(context.chosen())
    if context.excluded:
        statement = statement.where(direct.sku_id.not_in(context.excluded))
    rows = [
        (upn, display, sku, part, f"{context.name(sku, part)} directly and via group {group}")
        for upn, display, sku, part, group in context.session.execute(statement)
    ]
    finding = Finding(
        FindingRule.DIRECT_AND_GROUP,
        "Same product assigned directly and through a group",
        context.tenant,
        "users",
        DUPLICATE_FIX,
    )
    return user_finding(context, finding, rows, costed=False)


def _plans_of(plan: Any, sku: Any) -> ColumnElement[bool]:
    """The per-user service plans of a SKU (tenant-level "Company" plans do not overlap)."""
    return and_(
        plan.tenant_id == sku.tenant_id,
        plan.sku_id == sku.sku_id,
        or_(plan.applies_to.is_(None), plan.applies_to != "Company"),
    )


def _contained_pairs(context: Context) -> list[tuple[str, str, str, str]]:
    """(covered sku, part, covering sku, part): every user plan of the first is in the second."""
    a, b = aliased(Sku), aliased(Sku)
    pa, pb, any_plan = aliased(SkuServicePlan), aliased(SkuServicePlan), aliased(SkuServicePlan)

    missing_in_b = exists(
        select(literal(1))
        .select_from(pa)
        .correlate_except(pa)
        .where(
            _plans_of(pa, a),
            ~exists(
                select(literal(1))
                .select_from(pb)
                .where(_plans_of(pb, b), pb.service_plan_id == pa.service_plan_id)
                .correlate_except(pb)
            ),
        )
    )
    statement = (
        select(a.sku_id, a.sku_part_number, b.sku_id, b.sku_part_number)
        .join(b, and_(b.tenant_id == a.tenant_id, b.sku_id != a.sku_id))
        .where(
            a.tenant_id == context.tenant_pk,
            exists(select(literal(1)).select_from(any_plan).where(_plans_of(any_plan, a))),
            ~missing_in_b,
        )
    )
    pairs = [(str(w), str(x), str(y), str(z)) for w, x, y, z in context.session.execute(statement)]
    # Identical plan sets contain each other: report only one direction.
    found = {(p[0], p[2]) for p in pairs}
    return [p for p in pairs if not ((p[2], p[0]) in found and p[0] > p[2])]


def _user_plans(context: Context, sku_ids: set[str]) -> dict[str, frozenset[str]]:
    """Each SKU's per-user service plan ids."""
    plan = aliased(SkuServicePlan)
    statement = select(plan.sku_id, plan.service_plan_id).where(
        plan.tenant_id == context.tenant_pk,
        plan.sku_id.in_(sorted(sku_ids)),
        or_(plan.applies_to.is_(None), plan.applies_to != "Company"),
    )
    found: dict[str, set[str]] = {sku: set() for sku in sku_ids}
    for sku_id, plan_id in context.session.execute(statement):
        found[sku_id].add(str(plan_id).lower())
    return {sku: frozenset(plans) for sku, plans in found.items()}


def _disabled(rows: list[str | None]) -> frozenset[str]:
    """Plans disabled in every held assignment of one SKU (enabled by any one = enabled)."""
    sets = [
        frozenset(p.strip().lower() for p in (row or "").split(",") if p.strip()) for row in rows
    ]
    return frozenset.intersection(*sets) if sets else frozenset()


def _holder_counts(context: Context) -> dict[str, int]:
    """Assignment rows per SKU, from the (dataset_id, sku_id) index alone."""
    statement = (
        select(UserLicense.sku_id, func.count())
        .where(UserLicense.dataset_id == context.dataset_id)
        .group_by(UserLicense.sku_id)
    )
    return {str(sku): int(count) for sku, count in context.session.execute(statement)}


def _holders_of_both(
    context: Context,
    covered_id: str,
    covering_id: str,
    counts: dict[str, int],
    users: list[str] | None,
) -> list[tuple[Any, Any, dict[str, list[str | None]]]]:
    """(UPN, display name, {sku: disabled plans of each assignment}) of users holding both SKUs.

    One self-join over the (dataset_id, sku_id) and (dataset_id, user_id) indexes, driven by the
    product fewer users hold (SQLite keeps the FROM order; PostgreSQL plans it itself): only the
    users holding both reach Python, not every holder of either (issue 18: 1M users).
    """
    rare, common = sorted((covered_id, covering_id), key=lambda sku: (counts.get(sku, 0), sku))
    first, second = aliased(UserLicense), aliased(UserLicense)
    statement = (
        select(User.id, User.user_principal_name, User.display_name)
        .add_columns(first.disabled_plans, second.disabled_plans)
        .select_from(first)
        .join(
            second,
            and_(
                second.dataset_id == first.dataset_id,
                second.user_id == first.user_id,
                second.sku_id == common,
                second.state.in_(ASSIGNED_STATES),
            ),
        )
        .join(User, and_(User.dataset_id == first.dataset_id, User.id == first.user_id))
        .where(
            first.dataset_id == context.dataset_id,
            first.sku_id == rare,
            first.state.in_(ASSIGNED_STATES),
        )
    )
    if users is not None:  # a few users (incremental update): their ids drive the join
        statement = statement.where(first.user_id.in_(users))
    holders: dict[str, tuple[Any, Any, dict[str, set[str | None]]]] = {}
    for uid, upn, display, rare_disabled, common_disabled in context.session.execute(statement):
        by_sku = holders.setdefault(uid, (upn, display, {rare: set(), common: set()}))[2]
        # The join repeats each assignment per assignment of the other SKU: sets drop the copies
        # (an intersection of disabled-plan sets does not change with duplicates).
        by_sku[rare].add(rare_disabled)
        by_sku[common].add(common_disabled)
    return [
        (upn, display, {sku: list(found) for sku, found in by_sku.items()})
        for upn, display, by_sku in holders.values()
    ]


def overlapping_products(context: Context) -> Finding:
    """Users holding a product whose service plans are all part of another product they hold.

    Per user, with the plans each assignment disables: a plan of the smaller product counts as
    covered only when the user's larger product has it enabled (plans disabled in the smaller
    product itself need no cover).
    """
    finding = Finding(
        FindingRule.OVERLAPPING_PRODUCTS,
        "Overlapping products (one contains the other)",
        context.tenant,
        "users",
        OVERLAP_FIX,
    )
    pairs = _contained_pairs(context)
    rows: list[tuple[object, ...]] = []
    if pairs:
        plans = _user_plans(context, {p[0] for p in pairs} | {p[2] for p in pairs})
        users: list[str] | None = None
        if context.only is None:
            counts = _holder_counts(context)
        else:  # a few users (incremental): their ids drive the join, no SKU is the rarer one
            chosen = select(User.id).where(User.dataset_id == context.dataset_id, context.chosen())
            counts, users = {}, sorted(context.session.scalars(chosen))
        for covered_id, covered_part, covering_id, covering_part in pairs:
            if {covered_id, covering_id} & context.excluded:
                continue
            inside = context.name(covering_id, covering_part)
            both = _holders_of_both(context, covered_id, covering_id, counts, users)
            for upn, display, by_sku in both:
                needed = plans[covered_id] - _disabled(by_sku[covered_id])
                enabled = plans[covering_id] - _disabled(by_sku[covering_id])
                if needed <= enabled:
                    detail = f"{context.name(covered_id, covered_part)} is included in {inside}"
                    rows.append((upn, display, covered_id, covered_part, detail))
    rows.sort(key=lambda row: (str(row[0] or ""), str(row[2])))
    return user_finding(context, finding, rows)


def assignment_errors(context: Context) -> Finding:
    """Licence assignments Entra could not apply (CountViolation, MutuallyExclusiveViolation…)."""
    where = func.coalesce(Group.display_name, UserLicense.assigned_by_group)
    statement = (
        select(User.user_principal_name, User.display_name, UserLicense.sku_id)
        .add_columns(Sku.sku_part_number, UserLicense.error, UserLicense.state, where)
        .join(
            UserLicense,
            and_(UserLicense.dataset_id == User.dataset_id, UserLicense.user_id == User.id),
        )
        .outerjoin(Sku, and_(Sku.tenant_id == context.tenant_pk, Sku.sku_id == UserLicense.sku_id))
        .outerjoin(
            Group,
            and_(Group.tenant_id == context.tenant_pk, Group.id == UserLicense.assigned_by_group),
        )
        .where(
            User.dataset_id == context.dataset_id,
            UserLicense.error.is_not(None),
            # Disabled is an assignment switched off, not a failed one (even with a stale code).
            func.coalesce(UserLicense.state, "") != "Disabled",
        )
        .order_by(User.user_principal_name, UserLicense.sku_id)
    )
    if context.only is not None:
        statement = statement.where(context.chosen())
    if context.excluded:
        statement = statement.where(UserLicense.sku_id.not_in(context.excluded))
    rows = []
    for upn, display, sku, part, error, state, group in context.session.execute(statement):
        via = f" via group {group}" if group else " (direct)"
        rows.append((upn, display, sku, part, f"{error} ({state}): {context.name(sku, part)}{via}"))
    finding = Finding(
        FindingRule.ASSIGNMENT_ERRORS,
        "Group-licensing and assignment errors",
        context.tenant,
        "users",
        ERROR_FIX,
    )
    return user_finding(context, finding, rows, costed=False)
