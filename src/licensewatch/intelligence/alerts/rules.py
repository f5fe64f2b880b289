"""Alert destinations (webhook, e-mail) and rules: add, list, remove; secrets stay encrypted.

A webhook's URL is a secret too (user:pass@, ?code=, sig=, a secret path): it is stored encrypted
and shown everywhere as `scheme://host/…` (the `target` column holds only that form).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from licensewatch.intelligence.alerts.smtp import SmtpSecurity, SmtpServer
from licensewatch.intelligence.alerts.webhook import check_url
from licensewatch.intelligence.catalog import resolve_product
from licensewatch.security.crypto import Keyring
from licensewatch.security.redaction import redact_url
from licensewatch.services.audit import DetailValue, append
from licensewatch.settings import Settings, load_settings
from licensewatch.storage.database import session_scope
from licensewatch.storage.encrypted import keyring_for
from licensewatch.storage.models import Tenant
from licensewatch.storage.models.intelligence import AlertDestination, AlertRule


class AlertKind(StrEnum):
    """What a rule watches; the threshold's meaning depends on it."""

    LOW_AVAILABLE = "low_available"  # available seats below N (or N %)
    OVER_ASSIGNED = "over_assigned"  # more holders than seats
    LAPSING_SUBSCRIPTION = "lapsing_subscription"  # Warning/Suspended, trial ending in N days
    SYNC_FAILING = "sync_failing"  # syncs failing for more than N hours
    CREDENTIAL_EXPIRING = "credential_expiring"  # secret/certificate expired or within N days
    RENEWAL_UPCOMING = "renewal_upcoming"  # a paid renewal within N days, with its plan


class DestinationKind(StrEnum):
    WEBHOOK = "webhook"
    EMAIL = "email"


DEFAULT_THRESHOLDS = {
    AlertKind.LOW_AVAILABLE: 5.0,
    AlertKind.LAPSING_SUBSCRIPTION: 30.0,
    AlertKind.SYNC_FAILING: 24.0,
    AlertKind.CREDENTIAL_EXPIRING: 30.0,
    AlertKind.RENEWAL_UPCOMING: 30.0,
}


@dataclass(frozen=True)
class Destination:
    """A destination with its secret decrypted, ready to deliver."""

    id: int
    name: str
    kind: DestinationKind
    target: str = field(repr=False)  # a webhook URL in clear: never print it (redact_url)
    options: dict[str, Any]
    secret: bytes | None = field(repr=False)

    @property
    def recipients(self) -> list[str]:
        return [a.strip() for a in self.target.split(",") if a.strip()]

    def smtp(self) -> SmtpServer:
        o = self.options
        return SmtpServer(
            host=str(o.get("host", "localhost")),
            port=int(o.get("port", 587)),
            sender=str(o.get("sender", "licensewatch@localhost")),
            security=SmtpSecurity(o.get("security", SmtpSecurity.STARTTLS)),
            username=o.get("username"),
            password=self.secret.decode() if self.secret else None,
            ca_bundle=o.get("ca_bundle"),
        )


def _check_target(kind: DestinationKind, target: str, settings: Settings) -> str:
    target = target.strip()
    if kind == DestinationKind.WEBHOOK:
        check_url(target, allow_private=settings.allow_private_webhooks)
        return target
    addresses = [a.strip() for a in target.split(",") if a.strip()]
    if not addresses or any("@" not in a for a in addresses):
        raise ValueError(f"{target!r} must be one or more e-mail addresses, comma-separated")
    return ", ".join(addresses)


def add_destination(
    engine: Engine,
    name: str,
    kind: str | DestinationKind,
    target: str,
    *,
    secret: str | None = None,
    options: dict[str, Any] | None = None,
    keyring: Keyring | None = None,
    settings: Settings | None = None,
) -> int:
    """Store a destination; `secret` (HMAC key or SMTP password) and a webhook URL are encrypted."""
    settings = settings or load_settings()
    value = DestinationKind(str(kind))
    checked = _check_target(value, target, settings)
    options = {k: v for k, v in (options or {}).items() if v is not None}
    if value == DestinationKind.EMAIL:
        SmtpSecurity(options.setdefault("security", SmtpSecurity.STARTTLS.value))
        if "host" not in options or "sender" not in options:
            raise ValueError("an e-mail destination needs an SMTP host and a sender address")
        server = Destination(0, name, value, checked, options, secret.encode() if secret else None)
        server.smtp().check_security(allow_plaintext=settings.allow_plaintext_smtp)
    ring = keyring or keyring_for(engine, settings)
    ciphertext = ring.encrypt(secret.encode()) if secret else None
    url_ciphertext = None
    if value == DestinationKind.WEBHOOK:
        url_ciphertext, checked = ring.encrypt(checked.encode()), redact_url(checked)
    with session_scope(engine) as session:
        if session.scalar(select(AlertDestination.id).where(AlertDestination.name == name)):
            raise ValueError(f"a destination named {name!r} already exists")
        row = AlertDestination(
            name=name,
            kind=value.value,
            target=checked,
            target_ciphertext=url_ciphertext,
            options=options,
            secret_ciphertext=ciphertext,
        )
        session.add(row)
        session.flush()
        # The name and kind only: a webhook URL can hold a token, and the HMAC key or SMTP
        # password is a secret.
        append(session, "alert_destination.added", {"id": row.id, "name": name, "kind": value})
        return row.id


def destination(
    session: Session, name_or_id: str | int, keyring: Keyring | None = None
) -> Destination:
    """A destination by name or id, its secret decrypted (the keyring is loaded only if needed)."""
    if isinstance(name_or_id, int) or str(name_or_id).isdigit():
        row = session.get(AlertDestination, int(name_or_id))
    else:
        row = session.scalar(select(AlertDestination).where(AlertDestination.name == name_or_id))
    if row is None:
        raise LookupError(f"no alert destination {name_or_id!r}: see `licensewatch alerts list`")
    ring = None
    if row.secret_ciphertext or row.target_ciphertext:
        ring = keyring or keyring_for(session.connection(), create=False)
    secret = ring.decrypt(bytes(row.secret_ciphertext)) if ring and row.secret_ciphertext else None
    target = row.target
    if ring and row.target_ciphertext:
        target = ring.decrypt(bytes(row.target_ciphertext)).decode()
    return Destination(
        row.id, row.name, DestinationKind(row.kind), target, dict(row.options), secret
    )


def list_destinations(session: Session) -> list[AlertDestination]:
    return list(session.scalars(select(AlertDestination).order_by(AlertDestination.name)))


def remove_destination(engine: Engine, name: str) -> None:
    with session_scope(engine) as session:
        row = session.scalar(select(AlertDestination).where(AlertDestination.name == name))
        if row is None:
            raise LookupError(f"no alert destination {name!r}")
        session.delete(row)
        append(session, "alert_destination.removed", {"id": row.id, "name": name})


def add_rule(
    engine: Engine,
    kind: str | AlertKind,
    destination_name: str,
    *,
    tenant: str | None = None,
    product: str | None = None,
    threshold: float | None = None,
    percent: bool = False,
) -> int:
    """A rule for one tenant (None: all) and one product (None: all products)."""
    value = AlertKind(str(kind))
    if threshold is not None and threshold < 0:
        raise ValueError("the threshold must not be negative")
    if percent and value != AlertKind.LOW_AVAILABLE:
        raise ValueError("a percentage threshold only applies to low_available")
    with session_scope(engine) as session:
        target = session.scalar(
            select(AlertDestination.id).where(AlertDestination.name == destination_name)
        )
        if target is None:
            raise LookupError(f"no alert destination {destination_name!r}: add it first")
        tenant_id = None
        if tenant is not None:
            tenant_id = session.scalar(select(Tenant.id).where(Tenant.name == tenant))
            if tenant_id is None:
                raise LookupError(f"no tenant named {tenant!r}")
        sku_id = resolve_product(session, product)[0] if product else None
        row = AlertRule(
            kind=value.value,
            tenant_id=tenant_id,
            sku_id=sku_id,
            threshold=threshold if threshold is not None else DEFAULT_THRESHOLDS.get(value),
            percent=percent,
            destination_id=target,
        )
        session.add(row)
        session.flush()
        append(session, "alert_rule.added", _rule_detail(row, tenant, destination_name))
        return row.id


def _rule_detail(rule: AlertRule, tenant: str | None, target: str) -> dict[str, DetailValue]:
    limit = None if rule.threshold is None else f"{rule.threshold:g}{'%' if rule.percent else ''}"
    where = {"tenant": tenant or "all", "sku_id": rule.sku_id or "all"}
    return {"id": rule.id, "kind": rule.kind, **where, "threshold": limit, "destination": target}


def list_rules(session: Session) -> list[dict[str, Any]]:
    """Every rule with its tenant and destination names (JSON-ready)."""
    statement = (
        select(AlertRule, Tenant.name, AlertDestination.name)
        .outerjoin(Tenant, Tenant.id == AlertRule.tenant_id)
        .join(AlertDestination, AlertDestination.id == AlertRule.destination_id)
        .order_by(AlertRule.id)
    )
    return [
        {
            "id": rule.id,
            "kind": rule.kind,
            "tenant": tenant or "(all)",
            "sku_id": rule.sku_id or "(all)",
            "threshold": rule.threshold,
            "percent": rule.percent,
            "destination": target,
            "enabled": rule.enabled,
        }
        for rule, tenant, target in session.execute(statement)
    ]


def remove_rule(engine: Engine, rule_id: int) -> None:
    with session_scope(engine) as session:
        row = session.get(AlertRule, rule_id)
        if row is None:
            raise LookupError(f"no alert rule {rule_id}")
        session.delete(row)
        append(session, "alert_rule.removed", {"id": rule_id, "kind": row.kind})
