"""Findings: named rules computed with SQL over a tenant's current dataset."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from licensewatch.intelligence.catalog import product_names
from licensewatch.intelligence.exclusions import excluded_ids
from licensewatch.intelligence.findings.accounts import disabled_holders, guest_holders
from licensewatch.intelligence.findings.activity import inactive_users, never_signed_in
from licensewatch.intelligence.findings.assignments import (
    assignment_errors,
    direct_and_group,
    overlapping_products,
)
from licensewatch.intelligence.findings.base import (
    CSV_COLUMNS,
    Affected,
    Context,
    Finding,
    FindingRule,
)
from licensewatch.intelligence.findings.seats import (
    lapsed_products,
    over_assigned,
    unassigned_seats,
)
from licensewatch.intelligence.findings.subscriptions import lapsing_subscriptions
from licensewatch.intelligence.prices import load_prices
from licensewatch.intelligence.settings import read_settings
from licensewatch.storage.database import session_scope
from licensewatch.storage.models import Tenant, utcnow

__all__ = [
    "CSV_COLUMNS",
    "RULES",
    "Affected",
    "Finding",
    "FindingRule",
    "compute_findings",
    "findings_in_session",
    "tenant_findings",
]

RULES: dict[FindingRule, Callable[[Context], Finding]] = {
    FindingRule.UNASSIGNED_SEATS: unassigned_seats,
    FindingRule.OVER_ASSIGNED: over_assigned,
    FindingRule.LAPSED_PRODUCTS: lapsed_products,
    FindingRule.DISABLED_HOLDERS: disabled_holders,
    FindingRule.GUEST_HOLDERS: guest_holders,
    FindingRule.DIRECT_AND_GROUP: direct_and_group,
    FindingRule.OVERLAPPING_PRODUCTS: overlapping_products,
    FindingRule.ASSIGNMENT_ERRORS: assignment_errors,
    FindingRule.LAPSING_SUBSCRIPTIONS: lapsing_subscriptions,
    FindingRule.INACTIVE_USERS: inactive_users,
    FindingRule.NEVER_SIGNED_IN: never_signed_in,
}


def findings_in_session(
    session: Session,
    tenant: Tenant,
    *,
    now: datetime | None = None,
    inactive_days: int | None = None,
    lapse_days: int | None = None,
    for_alerts: bool = False,
    rules: set[FindingRule] | None = None,
    only: frozenset[str | None] | None = None,
) -> list[Finding]:
    """Every rule's finding for a tenant, in the session's snapshot (of the users whose
    userPrincipalName is in `only` when given: the user rules' rows of those users)."""
    settings = read_settings(session)
    context = Context(
        session=session,
        tenant_pk=tenant.id,
        tenant=tenant.name,
        dataset_id=tenant.dataset_id,
        sign_in_data=tenant.sign_in_data,
        names=product_names(session),
        prices=load_prices(session),
        excluded=excluded_ids(session, for_alerts=for_alerts),
        now=now or utcnow(),
        inactive_days=inactive_days or int(settings["inactive_days"]),
        lapse_days=lapse_days or int(settings["lapse_days"]),
        only=only,
    )
    return [rule(context) for key, rule in RULES.items() if rules is None or key in rules]


def compute_findings(
    engine: Engine,
    tenant_pk: int,
    *,
    now: datetime | None = None,
    inactive_days: int | None = None,
    lapse_days: int | None = None,
) -> list[Finding]:
    """Every rule's finding for one tenant (by primary key), read in one snapshot."""
    with session_scope(engine, write=False) as session:
        tenant = session.get(Tenant, tenant_pk)
        if tenant is None:
            raise LookupError(f"no tenant with id {tenant_pk}")
        return findings_in_session(
            session, tenant, now=now, inactive_days=inactive_days, lapse_days=lapse_days
        )


def tenant_findings(
    engine: Engine, tenant_name: str | None = None, *, now: datetime | None = None
) -> list[Finding]:
    """Findings of one tenant by name, or of every tenant (each in its own snapshot)."""
    with session_scope(engine, write=False) as session:
        statement = select(Tenant.id).order_by(Tenant.name)
        if tenant_name is not None:
            statement = statement.where(Tenant.name == tenant_name)
        ids = list(session.scalars(statement))
    if tenant_name is not None and not ids:
        raise LookupError(f"no tenant named {tenant_name!r}")
    return [finding for pk in ids for finding in compute_findings(engine, pk, now=now)]
