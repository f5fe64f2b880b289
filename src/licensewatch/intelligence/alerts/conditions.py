"""The conditions a rule sees in a tenant right now: subject → message (small, set-based reads)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from licensewatch.intelligence.alerts.rules import AlertKind
from licensewatch.intelligence.builtin_names import FREE_PART_NUMBERS
from licensewatch.intelligence.catalog import ProductNames
from licensewatch.intelligence.findings.subscriptions import lapse_detail, lapsing_statement
from licensewatch.storage.models import Credential, Sku, SyncRun, SyncStatus, Tenant
from licensewatch.storage.models.intelligence import AlertRule


def _seats(
    session: Session, tenant: Tenant, rule: AlertRule, names: ProductNames, excluded: set[str]
) -> dict[str, str]:
    statement = select(Sku).where(Sku.tenant_id == tenant.id).order_by(Sku.sku_part_number)
    if rule.sku_id:
        statement = statement.where(Sku.sku_id == rule.sku_id)
    found: dict[str, str] = {}
    threshold = rule.threshold or 0.0
    for sku in session.scalars(statement):
        if sku.sku_id in excluded:
            continue
        capacity = sku.enabled + sku.warning
        available = capacity - sku.consumed
        name = names.display_name(sku.sku_id, sku.sku_part_number)
        if rule.kind == AlertKind.OVER_ASSIGNED:
            if available < 0:
                found[f"sku:{sku.sku_id}"] = (
                    f"{name}: {-available} more assigned than purchased "
                    f"({sku.consumed} assigned, {capacity} seats)"
                )
            continue
        if capacity <= 0 or sku.sku_part_number in FREE_PART_NUMBERS:
            continue
        share = 100.0 * available / capacity
        if (share if rule.percent else available) < threshold:
            unit = "%" if rule.percent else " seats"
            found[f"sku:{sku.sku_id}"] = (
                f"{name}: {available} of {capacity} seats available "
                f"(alert below {threshold:g}{unit})"
            )
    return found


def _lapsing(
    session: Session,
    tenant: Tenant,
    rule: AlertRule,
    names: ProductNames,
    excluded: set[str],
    now: datetime,
) -> dict[str, str]:
    horizon = now + timedelta(days=rule.threshold or 30.0)
    found: dict[str, str] = {}
    for sub, part in session.execute(lapsing_statement(tenant.id, horizon)):
        if sub.sku_id in excluded or (rule.sku_id and sub.sku_id != rule.sku_id):
            continue
        name = names.display_name(sub.sku_id, part or sub.sku_part_number or sub.sku_id)
        found[f"subscription:{sub.id}"] = f"{name}: {lapse_detail(sub)}"
    return found


def _sync_failing(
    session: Session, tenant: Tenant, rule: AlertRule, now: datetime
) -> dict[str, str]:
    last_ok = session.scalar(
        select(func.max(SyncRun.id)).where(
            SyncRun.tenant_id == tenant.id, SyncRun.status == SyncStatus.COMPLETED
        )
    )
    failed = select(SyncRun).where(
        SyncRun.tenant_id == tenant.id, SyncRun.status == SyncStatus.FAILED
    )
    if last_ok is not None:
        failed = failed.where(SyncRun.id > last_ok)
    # Failed runs since the last success; a run in progress neither opens nor clears it.
    runs = list(session.scalars(failed.order_by(SyncRun.id)))
    if not runs:
        return {}
    since = runs[0].started_at
    hours = (now - since).total_seconds() / 3600
    if hours < (rule.threshold or 0.0):
        return {}
    cause = runs[-1].error_message or runs[-1].error_kind or "unknown error"
    return {
        "sync": f"sync failing since {since:%Y-%m-%d %H:%M} UTC ({hours:.0f} h, "
        f"{len(runs)} failed runs): {cause.splitlines()[0][:300]}"
    }


def _credential(session: Session, tenant: Tenant, rule: AlertRule, now: datetime) -> dict[str, str]:
    row = session.scalar(select(Credential).where(Credential.tenant_id == tenant.id))
    if row is None:
        return {}
    dates = [
        (when, what)
        for when, what in (
            (row.secret_expires_at, "client secret"),
            (row.certificate_not_after, "certificate"),
        )
        if when is not None
    ]
    if not dates:
        return {}
    when, what = min(dates)
    if when > now + timedelta(days=rule.threshold or 0.0):
        return {}
    if when <= now:
        text = f"the {what} expired on {when:%Y-%m-%d}: syncs fail until it is replaced"
    else:
        text = f"the {what} expires on {when:%Y-%m-%d} (in {(when - now).days} days)"
    return {"credential": text + " (`licensewatch tenant update NAME` to replace it)"}


def current_conditions(
    session: Session,
    tenant: Tenant,
    rule: AlertRule,
    names: ProductNames,
    excluded: set[str],
    now: datetime,
) -> dict[str, str]:
    """The rule's open conditions in the tenant now, keyed by subject."""
    kind = AlertKind(rule.kind)
    if kind in (AlertKind.LOW_AVAILABLE, AlertKind.OVER_ASSIGNED):
        return _seats(session, tenant, rule, names, excluded)
    if kind == AlertKind.LAPSING_SUBSCRIPTION:
        return _lapsing(session, tenant, rule, names, excluded, now)
    if kind == AlertKind.SYNC_FAILING:
        return _sync_failing(session, tenant, rule, now)
    return _credential(session, tenant, rule, now)
