"""Tables for product names, prices, exclusions, alert rules/conditions/log and report schedules."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from licensewatch.storage.models.base import Base, utcnow


class PriceTerm(StrEnum):
    """The period a price pays for."""

    MONTHLY = "monthly"
    ANNUAL = "annual"


class ExclusionScope(StrEnum):
    """Where an excluded product is ignored."""

    EVERYWHERE = "everywhere"  # findings, costs' waste and alerts
    ALERTS = "alerts"  # alerts only


class CatalogProduct(Base):
    """A product name imported from Microsoft's product-name CSV."""

    __tablename__ = "catalog_products"

    sku_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    part_number: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(400))
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)


class CatalogServicePlan(Base):
    """A service plan's friendly name imported from Microsoft's product-name CSV."""

    __tablename__ = "catalog_service_plans"

    plan_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    friendly_name: Mapped[str] = mapped_column(String(400))


class ProductNameOverride(Base):
    """An admin's own name for a product: wins over the CSV and the built-in names."""

    __tablename__ = "product_name_overrides"

    sku_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    part_number: Mapped[str | None] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(400))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ProductPrice(Base):
    """What one unit of a product costs per term; decimal text keeps money exact on SQLite."""

    __tablename__ = "product_prices"

    sku_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    part_number: Mapped[str | None] = mapped_column(String(200))
    amount: Mapped[str] = mapped_column(String(32))
    currency: Mapped[str] = mapped_column(String(3))
    term: Mapped[str] = mapped_column(String(10))  # a PriceTerm value
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ProductExclusion(Base):
    """A product that findings and/or alerts ignore (free, service or trial SKUs)."""

    __tablename__ = "product_exclusions"

    sku_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    part_number: Mapped[str | None] = mapped_column(String(200))
    scope: Mapped[str] = mapped_column(String(12))  # an ExclusionScope value
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class IntelligenceSetting(Base):
    """A named setting (cost attribute, inactivity days, lapse window)."""

    __tablename__ = "intelligence_settings"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(String(400))


class AlertDestination(Base):
    """Where notifications go: a webhook URL or e-mail addresses with their SMTP server."""

    __tablename__ = "alert_destinations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(10))  # webhook | email
    # Comma-separated addresses; for a webhook only its redacted form (scheme://host/…): the URL
    # itself may carry a credential (user:pass@, ?code=, sig=, a secret path) and is encrypted.
    target: Mapped[str] = mapped_column(Text)
    target_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # SMTP host, port, ...
    # The webhook's HMAC secret or the SMTP password, encrypted with the keyring.
    secret_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AlertRule(Base):
    """A condition to watch in one tenant (or all) for one product (or all)."""

    __tablename__ = "alert_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))  # an AlertKind value
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    sku_id: Mapped[str | None] = mapped_column(String(36))
    threshold: Mapped[float | None]
    percent: Mapped[bool] = mapped_column(Boolean, default=False)
    destination_id: Mapped[int] = mapped_column(
        ForeignKey("alert_destinations.id", ondelete="CASCADE")
    )
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AlertCondition(Base):
    """An open condition (rule + tenant + subject): notified once, removed when it clears."""

    __tablename__ = "alert_conditions"

    rule_id: Mapped[int] = mapped_column(
        ForeignKey("alert_rules.id", ondelete="CASCADE"), primary_key=True
    )
    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    subject: Mapped[str] = mapped_column(String(200), primary_key=True)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    # False while the opening notice could not be delivered: the next evaluation retries it.
    notified: Mapped[bool] = mapped_column(Boolean, default=False)
    message: Mapped[str] = mapped_column(Text)


class AlertLogEntry(Base):
    """One notification attempt: what was sent where, and whether it arrived."""

    __tablename__ = "alert_log"
    __table_args__ = (Index("ix_alert_log_sent_at", "sent_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("alert_rules.id", ondelete="SET NULL"))
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="SET NULL"))
    destination: Mapped[str] = mapped_column(String(100))
    event: Mapped[str] = mapped_column(String(10))  # opened | cleared | test
    subject: Mapped[str] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(Text)
    delivered: Mapped[bool] = mapped_column(Boolean)
    error: Mapped[str | None] = mapped_column(Text)


class ReportSchedule(Base):
    """A report e-mailed weekly or monthly for one tenant (or all) through an e-mail destination."""

    __tablename__ = "report_schedules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    frequency: Mapped[str] = mapped_column(String(10))  # weekly | monthly
    destination_id: Mapped[int] = mapped_column(
        ForeignKey("alert_destinations.id", ondelete="CASCADE")
    )
    next_due_at: Mapped[datetime]
    last_sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
