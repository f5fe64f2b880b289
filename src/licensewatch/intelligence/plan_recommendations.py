"""Change plan lines from the current recommendations (remove, downgrade, duplicate, add-on)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Engine, func, select

from licensewatch.domain.identifiers import InvalidInput
from licensewatch.domain.plans import LineAction, LineSpec, PlanRefused, map_disabled_plans
from licensewatch.domain.plans import split_plans as split
from licensewatch.intelligence.plan_builder import service_plans
from licensewatch.intelligence.read_models.recommendations_readers import stored_recommendations
from licensewatch.intelligence.recommendations import Action
from licensewatch.services.plans import NewLine
from licensewatch.services.tenant_lookup import tenant_by_name
from licensewatch.storage.database import session_scope
from licensewatch.storage.models import User, UserLicense

ACTIONS = frozenset(a.value for a in Action)


def _spec(action: str, sku_id: str, target: str | None) -> LineSpec:
    if action == Action.DOWNGRADE and target:
        return LineSpec(LineAction.SWAP, sku_id, target)
    if action == Action.REMOVE_DUPLICATE:
        return LineSpec(LineAction.REMOVE_DUPLICATE, sku_id)
    return LineSpec(LineAction.REMOVE, sku_id)  # remove, remove_addon


def recommended_lines(
    engine: Engine, tenant_name: str, actions: Iterable[str] = ()
) -> list[NewLine]:
    """One line per recommendation of the tenant (only these actions, when given)."""
    wanted = set(actions) or set(ACTIONS)
    unknown = wanted - ACTIONS
    if unknown:
        raise InvalidInput(f"unknown action {sorted(unknown)[0]!r}: {', '.join(sorted(ACTIONS))}")
    with session_scope(engine, write=False) as session:
        tenant = tenant_by_name(session, tenant_name)  # TenantNotFound before any work
        dataset, tenant_pk = tenant.dataset_id, tenant.id
    found = [r for r in stored_recommendations(engine, tenant_name) if r.action in wanted]
    if not found:
        raise PlanRefused(
            f"no current recommendation for tenant {tenant_name}"
            + (f" with action {', '.join(sorted(wanted))}" if actions else "")
            + f": nothing to plan (`licensewatch recommendations --tenant {tenant_name}`)"
        )
    lines: list[NewLine] = []
    with session_scope(engine, write=False) as session:
        upns = {r.user_principal_name.lower() for r in found}
        ids: dict[str, str] = dict(
            session.execute(
                select(func.lower(User.user_principal_name), User.id).where(
                    User.dataset_id == dataset, func.lower(User.user_principal_name).in_(upns)
                )
            ).all()
        )
        for rec in found:
            user_id = ids.get(rec.user_principal_name.lower())
            if user_id is None:  # gone since the recommendation was computed
                continue
            spec = _spec(rec.action, rec.sku_id, rec.target_sku_id)
            if spec.action is LineAction.SWAP and spec.target_sku_id:
                disabled = session.scalar(
                    select(UserLicense.disabled_plans).where(
                        UserLicense.dataset_id == dataset,
                        UserLicense.user_id == user_id,
                        UserLicense.sku_id == rec.sku_id,
                        UserLicense.assigned_by_group.is_(None),
                    )
                )
                carried = map_disabled_plans(
                    split(disabled),
                    service_plans(session, tenant_pk, rec.sku_id),
                    service_plans(session, tenant_pk, spec.target_sku_id),
                )
                spec = LineSpec(LineAction.SWAP, rec.sku_id, spec.target_sku_id, carried)
            lines.append(
                NewLine(user_id, rec.user_principal_name, spec, rec.reason, rec.monthly_saving,
                        rec.currency)
            )  # fmt: skip
    return lines
