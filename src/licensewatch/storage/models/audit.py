"""The audit log: append-only records of sign-ins and administrative actions (never a secret)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from licensewatch.storage.models.base import Base, utcnow


class AuditEvent(Base):
    """Who did what, when, from which address, and whether it worked."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_at", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str | None] = mapped_column(String(400))
    address: Mapped[str | None] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(60))
    outcome: Mapped[str] = mapped_column(String(20))  # ok | refused | failed
    detail: Mapped[str | None] = mapped_column(Text)
