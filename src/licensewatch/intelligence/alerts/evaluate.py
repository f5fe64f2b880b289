"""Alert evaluation: one notice per new condition and one when it clears, never a repeat."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, or_, select

from licensewatch.intelligence.alerts.conditions import current_conditions
from licensewatch.intelligence.alerts.renewal_alerts import plan_csv
from licensewatch.intelligence.alerts.rules import Destination, DestinationKind, destination
from licensewatch.intelligence.alerts.smtp import message, send
from licensewatch.intelligence.alerts.webhook import DeliveryError, post_json
from licensewatch.intelligence.catalog import product_names
from licensewatch.intelligence.exclusions import excluded_ids
from licensewatch.security.crypto import DecryptionError, Keyring, SecretKeyError
from licensewatch.security.redaction import redact, register_secret
from licensewatch.settings import load_settings
from licensewatch.storage.database import session_scope
from licensewatch.storage.models import Tenant, utcnow
from licensewatch.storage.models.intelligence import AlertCondition, AlertLogEntry, AlertRule

log = logging.getLogger(__name__)


@dataclass
class Notification:
    """One notice: a condition opened or cleared (or a test), and whether it was delivered."""

    event: str  # opened | cleared | test
    rule_id: int | None
    kind: str
    tenant: str
    subject: str
    message: str
    destination: str
    occurred_at: datetime
    delivered: bool = False
    error: str | None = None
    tenant_pk: int | None = field(default=None, repr=False)
    plan: dict[str, Any] | None = None  # a renewal's plan (renewal_upcoming), sent with it

    def payload(self) -> dict[str, Any]:
        """The webhook's JSON body (`plan` only on a renewal_upcoming notice that opens)."""
        body = {
            "source": "licensewatch",
            "event": self.event,
            "rule": {"id": self.rule_id, "kind": self.kind},
            "tenant": self.tenant,
            "subject": self.subject,
            "message": self.message,
            "occurred_at": self.occurred_at.isoformat(),
        }
        if self.plan is not None:
            body["plan"] = self.plan
        return body

    def title(self) -> str:
        prefix = {"opened": "", "cleared": "resolved: ", "test": "test: "}[self.event]
        return f"[licensewatch] {self.tenant}: {prefix}{self.message}"[:250]


def deliver(target: Destination, notice: Notification) -> None:
    """Send by webhook or e-mail; records delivery success or the error on the notice."""
    settings = load_settings()
    try:
        if target.kind == DestinationKind.WEBHOOK:
            post_json(
                target.target,
                notice.payload(),
                target.secret,
                target.options.get("ca_bundle"),
                allow_private=settings.allow_private_webhooks,
            )
        else:
            verb = "is resolved" if notice.event == "cleared" else "needs attention"
            text = (
                f"Tenant {notice.tenant}: this {verb}.\n\n{notice.message}\n\n"
                f"Rule {notice.rule_id} ({notice.kind}), {notice.occurred_at:%Y-%m-%d %H:%M} UTC.\n"
            )
            attachments = []
            if notice.plan is not None:
                attachments.append(("renewal-plan.csv", "text/csv", plan_csv(notice.plan)))
            server = target.smtp()
            mail = message(server, target.recipients, notice.title(), text, None, attachments)
            send(server, mail, allow_plaintext=settings.allow_plaintext_smtp)
        notice.delivered = True
    except (DeliveryError, ValueError) as exc:
        # ValueError: a message the email package cannot build. It fails this notice only;
        # the tenant's other notices are still sent and every one is recorded.
        # Messages name a webhook as scheme://host/… only; the URL is registered as a secret
        # anyway so that no later formatting (an exception's text) can reveal it.
        if target.kind == DestinationKind.WEBHOOK:
            register_secret(target.target)
        notice.error = redact(str(exc))
        log.warning("alert to %s not delivered: %s", target.name, notice.error)


@dataclass
class _Plan:
    notices: list[tuple[Notification, Destination | None]] = field(default_factory=list)
    seen: list[tuple[int, str]] = field(default_factory=list)  # open and still true
    dropped: list[tuple[int, str]] = field(default_factory=list)  # never notified, now gone


def _plan(engine: Engine, tenant_pk: int, now: datetime, keyring: Keyring | None) -> _Plan:
    plan = _Plan()
    with session_scope(engine, write=False) as session:
        tenant = session.get(Tenant, tenant_pk)
        if tenant is None:
            raise LookupError(f"no tenant with id {tenant_pk}")
        rules = session.scalars(
            select(AlertRule)
            .where(AlertRule.enabled.is_(True))
            .where(or_(AlertRule.tenant_id.is_(None), AlertRule.tenant_id == tenant_pk))
            .order_by(AlertRule.id)
        ).all()
        conditions = {
            (c.rule_id, c.subject): c
            for c in session.scalars(
                select(AlertCondition).where(AlertCondition.tenant_id == tenant_pk)
            )
        }
        names, excluded = product_names(session), excluded_ids(session, for_alerts=True)
        targets: dict[int, Destination | None] = {}
        for rule in rules:
            if rule.destination_id not in targets:
                try:
                    targets[rule.destination_id] = destination(
                        session, rule.destination_id, keyring
                    )
                except (DecryptionError, SecretKeyError) as exc:
                    log.warning("alert destination %s unusable: %s", rule.destination_id, exc)
                    targets[rule.destination_id] = None
            target = targets[rule.destination_id]
            name = target.name if target else str(rule.destination_id)
            current = current_conditions(session, tenant, rule, names, excluded, now)
            for subject, found in current.items():
                known = conditions.get((rule.id, subject))
                if known is not None and known.notified:
                    plan.seen.append((rule.id, subject))
                    continue
                notice = Notification(
                    "opened", rule.id, rule.kind, tenant.name, subject, found.message, name, now
                )
                notice.plan = found.plan
                plan.notices.append((notice, target))
            for (rule_id, subject), known in conditions.items():
                if rule_id != rule.id or subject in current:
                    continue
                if not known.notified:
                    plan.dropped.append((rule_id, subject))
                    continue
                text = f"{known.message} (cleared)"
                notice = Notification(
                    "cleared", rule.id, rule.kind, tenant.name, subject, text, name, now
                )
                plan.notices.append((notice, target))
        for notice, _ in plan.notices:
            notice.tenant_pk = tenant_pk
    return plan


def _record(engine: Engine, tenant_pk: int, plan: _Plan, now: datetime) -> None:
    with session_scope(engine) as session:
        for rule_id, subject in plan.dropped:
            session.execute(_where(delete(AlertCondition), rule_id, tenant_pk, subject))
        for rule_id, subject in plan.seen:
            row = session.get(AlertCondition, (rule_id, tenant_pk, subject))
            if row is not None:
                row.last_seen_at = now
        for notice, _ in plan.notices:
            assert notice.rule_id is not None  # noqa: S101 - evaluation notices always have a rule
            key = (notice.rule_id, tenant_pk, notice.subject)
            row = session.get(AlertCondition, key)
            if notice.event == "cleared":
                if notice.delivered and row is not None:
                    session.delete(row)
            elif row is None:
                session.add(
                    AlertCondition(
                        rule_id=notice.rule_id,
                        tenant_id=tenant_pk,
                        subject=notice.subject,
                        opened_at=now,
                        last_seen_at=now,
                        notified=notice.delivered,
                        message=notice.message,
                    )
                )
            else:
                row.notified, row.message, row.last_seen_at = notice.delivered, notice.message, now
            session.add(log_entry(notice))


def _where(statement: Any, rule_id: int, tenant_pk: int, subject: str) -> Any:
    return statement.where(
        AlertCondition.rule_id == rule_id,
        AlertCondition.tenant_id == tenant_pk,
        AlertCondition.subject == subject,
    )


def log_entry(notice: Notification) -> AlertLogEntry:
    """The alert log row of a notice."""
    return AlertLogEntry(
        sent_at=notice.occurred_at,
        rule_id=notice.rule_id,
        tenant_id=notice.tenant_pk,
        destination=notice.destination,
        event=notice.event,
        subject=notice.subject[:200],
        message=notice.message,
        delivered=notice.delivered,
        error=notice.error,
    )


def evaluate_alerts(
    engine: Engine, tenant_pk: int, *, now: datetime | None = None, keyring: Keyring | None = None
) -> list[Notification]:
    """Evaluate the tenant's rules, send what is new or cleared, persist state and the log.

    The daemon calls this after every sync run. Undelivered opening notices are retried on the
    next evaluation; delivered ones are never repeated while their condition stays open.
    """
    now = now or utcnow()
    plan = _plan(engine, tenant_pk, now, keyring)
    for notice, target in plan.notices:
        if target is None:
            notice.error = "the destination's secret cannot be decrypted with the current key"
        else:
            deliver(target, notice)
    _record(engine, tenant_pk, plan, now)
    return [notice for notice, _ in plan.notices]


def send_test(engine: Engine, name: str, *, keyring: Keyring | None = None) -> Notification:
    """Send a test notice to a destination now (logged like any other)."""
    with session_scope(engine, write=False) as session:
        target = destination(session, name, keyring)
    text = "test notification: licensewatch can reach this destination"
    notice = Notification("test", None, "test", "licensewatch", "test", text, target.name, utcnow())
    deliver(target, notice)
    with session_scope(engine) as session:
        session.add(log_entry(notice))
    return notice


def alert_log(engine: Engine, limit: int = 50) -> list[dict[str, Any]]:
    """The newest log entries, newest first (JSON-ready)."""
    with session_scope(engine, write=False) as session:
        statement = (
            select(AlertLogEntry, Tenant.name)
            .outerjoin(Tenant, Tenant.id == AlertLogEntry.tenant_id)
            .order_by(AlertLogEntry.id.desc())
            .limit(limit)
        )
        return [
            {
                "sent_at": row.sent_at.isoformat(),
                "event": row.event,
                "tenant": tenant,
                "rule_id": row.rule_id,
                "destination": row.destination,
                "subject": row.subject,
                "message": row.message,
                "delivered": row.delivered,
                "error": row.error,
            }
            for row, tenant in session.execute(statement)
        ]
