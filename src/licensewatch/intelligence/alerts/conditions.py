"""The conditions a rule sees in a tenant right now: subject → message (small, set-based reads)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from licensewatch.intelligence.alerts.renewal_alerts import Condition, renewals_due
from licensewatch.intelligence.alerts.rules import AlertKind
from licensewatch.intelligence.catalog import ProductNames
from licensewatch.intelligence.findings.seats import lapsed_detail
from licensewatch.intelligence.findings.subscriptions import lapse_detail, lapsing_statement
from licensewatch.storage.models import Credential, SyncRun, SyncStatus, Tenant
from licensewatch.storage.models.intelligence import AlertRule
from licensewatch.storage.queries import balance_rows


def _seats(
    session: Session, tenant: Tenant, rule: AlertRule, names: ProductNames, excluded: set[str]
) -> dict[str, str]:
    """Over-assigned and low paid products, with the domain's numbers (domain/balance.py)."""
    found: dict[str, str] = {}
    threshold = rule.threshold or 0.0
    for row in balance_rows(session, tenant.name):
        if row.sku_id in excluded or (rule.sku_id and row.sku_id != rule.sku_id) or not row.paid:
            continue
        usable = row.purchased + row.trial
        name = names.display_name(row.sku_id, row.sku_part_number)
        if rule.kind == AlertKind.OVER_ASSIGNED:
            if row.over_assigned:
                found[f"sku:{row.sku_id}"] = (
                    f"{name}: {row.over_assigned_units} more assigned than purchased "
                    f"({row.consumed} assigned, {usable} seats)"
                )
            continue
        if usable <= 0:
            continue
        share = 100.0 * row.available / usable
        if (share if rule.percent else row.available) < threshold:
            unit = "%" if rule.percent else " seats"
            found[f"sku:{row.sku_id}"] = (
                f"{name}: {row.available} of {usable} seats available "
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
    for row in balance_rows(session, tenant.name):
        # Holders of units that were not renewed: the same rows as the lapsed-products finding.
        if row.lapsed and row.sku_id not in excluded and rule.sku_id in (None, "", row.sku_id):
            name = names.display_name(row.sku_id, row.sku_part_number)
            found[f"lapsed:{row.sku_id}"] = f"{name}: {lapsed_detail(row)}"
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
) -> dict[str, Condition]:
    """The rule's open conditions in the tenant now, keyed by subject."""
    kind = AlertKind(rule.kind)
    if kind == AlertKind.RENEWAL_UPCOMING:
        return renewals_due(session, tenant, rule, excluded, now)
    if kind in (AlertKind.LOW_AVAILABLE, AlertKind.OVER_ASSIGNED):
        found = _seats(session, tenant, rule, names, excluded)
    elif kind == AlertKind.LAPSING_SUBSCRIPTION:
        found = _lapsing(session, tenant, rule, names, excluded, now)
    elif kind == AlertKind.SYNC_FAILING:
        found = _sync_failing(session, tenant, rule, now)
    else:
        found = _credential(session, tenant, rule, now)
    return {subject: Condition(text) for subject, text in found.items()}
