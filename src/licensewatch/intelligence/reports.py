"""Licence reports (balance, costs, findings, recent changes): built, scheduled and e-mailed."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Engine, select

from licensewatch.intelligence.alerts.rules import DestinationKind, destination
from licensewatch.intelligence.alerts.smtp import message, send
from licensewatch.intelligence.alerts.webhook import DeliveryError
from licensewatch.intelligence.catalog import with_names
from licensewatch.intelligence.findings.ranking import by_money
from licensewatch.intelligence.history import ChangeQuery, change_history
from licensewatch.intelligence.read_models.readers import stored_costs, stored_findings
from licensewatch.intelligence.report_content import Report
from licensewatch.intelligence.report_formats import attachments, render_html, render_text
from licensewatch.security.crypto import Keyring
from licensewatch.services.audit import append
from licensewatch.settings import load_settings
from licensewatch.storage.database import session_scope
from licensewatch.storage.models import Tenant, utcnow
from licensewatch.storage.models.intelligence import AlertDestination, ReportSchedule
from licensewatch.storage.queries import balance_rows, tenants_named

SEND_HOUR_UTC = 7
MAX_CHANGES = 2000


class Frequency(StrEnum):
    WEEKLY = "weekly"
    MONTHLY = "monthly"


def build_report(
    engine: Engine, tenant_name: str | None = None, *, now: datetime | None = None, days: int = 7
) -> Report:
    """Read the report's data; `days` is how far back changes go.

    Balance and changes are read in one snapshot; costs and findings come from each tenant's
    read model (each fresh in its own snapshot: rebuilt first when an input changed).
    """
    now = now or utcnow()
    since = now - timedelta(days=days)
    with session_scope(engine, write=False) as session:
        tenants = tenants_named(session, tenant_name)
        title = f"Licence report: {tenant_name or 'all tenants'}"
        report = Report(title, now, since)
        report.balance = with_names(session, balance_rows(session, tenant_name=tenant_name))
        for tenant in tenants:
            query = ChangeQuery(tenant=tenant.name, since=since)
            report.changes += [
                {
                    "tenant": change.tenant,
                    "occurred_at": change.occurred_at.isoformat(timespec="seconds"),
                    "kind": change.kind,
                    "user_principal_name": change.user_principal_name or "",
                    "product": change.product or "",
                    "via_group": change.group_name or change.assigned_by_group or "",
                    "note": change.note or "",
                }
                for change in change_history(session, query, limit=MAX_CHANGES)
            ]
    for tenant in tenants:
        report.costs += stored_costs(engine, tenant.name, now=now)
        report.findings += stored_findings(engine, tenant.name, now=now, limit=None)
    report.findings = by_money(report.findings)
    return report


def next_due(frequency: Frequency, after: datetime) -> datetime:
    """The next send time after `after`: Mondays, or the 1st of the month, at 07:00 UTC."""
    after = after.astimezone(UTC)
    if frequency == Frequency.WEEKLY:
        day = after.date() + timedelta(days=7 - after.weekday())
        return datetime(day.year, day.month, day.day, SEND_HOUR_UTC, tzinfo=UTC)
    year, month = (after.year + 1, 1) if after.month == 12 else (after.year, after.month + 1)
    calendar.monthrange(year, month)  # validates the month
    return datetime(year, month, 1, SEND_HOUR_UTC, tzinfo=UTC)


def add_schedule(
    engine: Engine,
    frequency: str | Frequency,
    destination_name: str,
    *,
    tenant: str | None = None,
    now: datetime | None = None,
) -> int:
    """Schedule a report for one tenant (None: all) to an e-mail destination."""
    value = Frequency(str(frequency))
    with session_scope(engine) as session:
        target = session.scalar(
            select(AlertDestination).where(AlertDestination.name == destination_name)
        )
        if target is None or target.kind != DestinationKind.EMAIL:
            raise LookupError(f"no e-mail destination {destination_name!r}: add one first")
        tenant_id = None
        if tenant is not None:
            tenant_id = session.scalar(select(Tenant.id).where(Tenant.name == tenant))
            if tenant_id is None:
                raise LookupError(f"no tenant named {tenant!r}")
        row = ReportSchedule(
            tenant_id=tenant_id,
            frequency=value.value,
            destination_id=target.id,
            next_due_at=next_due(value, now or utcnow()),
        )
        session.add(row)
        session.flush()
        where = {"tenant": tenant or "all", "destination": destination_name}
        append(session, "report_schedule.added", {"id": row.id, "frequency": value, **where})
        return row.id


def list_schedules(engine: Engine) -> list[dict[str, Any]]:
    with session_scope(engine, write=False) as session:
        statement = (
            select(ReportSchedule, Tenant.name, AlertDestination.name)
            .outerjoin(Tenant, Tenant.id == ReportSchedule.tenant_id)
            .join(AlertDestination, AlertDestination.id == ReportSchedule.destination_id)
            .order_by(ReportSchedule.id)
        )
        return [
            {
                "id": row.id,
                "tenant": tenant or "(all)",
                "frequency": row.frequency,
                "destination": target,
                "next_due_at": row.next_due_at.isoformat(),
                "last_sent_at": row.last_sent_at.isoformat() if row.last_sent_at else None,
                "last_error": row.last_error,
            }
            for row, tenant, target in session.execute(statement)
        ]


def remove_schedule(engine: Engine, schedule_id: int) -> None:
    with session_scope(engine) as session:
        row = session.get(ReportSchedule, schedule_id)
        if row is None:
            raise LookupError(f"no report schedule {schedule_id}")
        session.delete(row)
        append(session, "report_schedule.removed", {"id": schedule_id})


@dataclass(frozen=True)
class DueReport:
    schedule_id: int
    tenant: str | None
    frequency: Frequency
    destination: str


def due_reports(engine: Engine, now: datetime | None = None) -> list[DueReport]:
    """Schedules whose next send time has come."""
    now = now or utcnow()
    with session_scope(engine, write=False) as session:
        statement = (
            select(ReportSchedule, Tenant.name, AlertDestination.name)
            .outerjoin(Tenant, Tenant.id == ReportSchedule.tenant_id)
            .join(AlertDestination, AlertDestination.id == ReportSchedule.destination_id)
            .where(ReportSchedule.next_due_at <= now)
            .order_by(ReportSchedule.next_due_at, ReportSchedule.id)
        )
        return [
            DueReport(row.id, tenant, Frequency(row.frequency), target)
            for row, tenant, target in session.execute(statement)
        ]


def send_report(
    engine: Engine,
    destination_name: str,
    tenant: str | None = None,
    *,
    now: datetime | None = None,
    days: int = 7,
    keyring: Keyring | None = None,
) -> None:
    """E-mail the report (HTML body, XLSX and findings CSV attached); DeliveryError on failure."""
    with session_scope(engine, write=False) as session:
        target = destination(session, destination_name, keyring)
    if target.kind != DestinationKind.EMAIL:
        raise ValueError(f"{destination_name} is not an e-mail destination")
    report = build_report(engine, tenant, now=now, days=days)
    server = target.smtp()
    subject = f"[licensewatch] {report.title} ({report.generated_at:%Y-%m-%d})"
    mail = message(
        server,
        target.recipients,
        subject,
        render_text(report),
        render_html(report),
        attachments(report),
    )
    send(server, mail, allow_plaintext=load_settings().allow_plaintext_smtp)


def send_due_reports(
    engine: Engine, now: datetime | None = None, *, keyring: Keyring | None = None
) -> list[tuple[DueReport, str | None]]:
    """Send every due report and move its schedule on; returns (report, error or None)."""
    now = now or utcnow()
    results: list[tuple[DueReport, str | None]] = []
    for due in due_reports(engine, now):
        days = 7 if due.frequency == Frequency.WEEKLY else 31
        error: str | None = None
        try:
            send_report(engine, due.destination, due.tenant, now=now, days=days, keyring=keyring)
        except (DeliveryError, LookupError, ValueError) as exc:
            error = str(exc)
        with session_scope(engine) as session:
            row = session.get(ReportSchedule, due.schedule_id)
            if row is not None:
                row.last_error = error
                if error is None:
                    row.last_sent_at = now
                # A failed send is retried an hour later, not a whole period later.
                retry = now + timedelta(hours=1)
                row.next_due_at = next_due(due.frequency, now) if error is None else retry
        results.append((due, error))
    return results
