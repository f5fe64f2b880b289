"""Tables recording sync runs and the per-run SKU unit snapshots that make up licence history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from licensewatch.domain.schedule import SyncKind
from licensewatch.storage.kinds import SyncStatus as SyncStatus
from licensewatch.storage.models.base import Base, utcnow


class SyncRun(Base):
    """One attempt to collect a tenant; its id is also the dataset id of the user rows it wrote."""

    __tablename__ = "sync_runs"
    __table_args__ = (Index("ix_sync_runs_tenant_id_started_at", "tenant_id", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10), default=SyncKind.FULL)
    status: Mapped[str] = mapped_column(String(12), default=SyncStatus.NEW)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    users_read: Mapped[int] = mapped_column(Integer, default=0)
    pages_read: Mapped[int] = mapped_column(Integer, default=0)
    requests: Mapped[int] = mapped_column(Integer, default=0)
    retries: Mapped[int] = mapped_column(Integer, default=0)
    throttled: Mapped[int] = mapped_column(Integer, default=0)
    error_kind: Mapped[str | None] = mapped_column(String(80))
    error_message: Mapped[str | None] = mapped_column(Text)
    request_ids: Mapped[list[Any] | None] = mapped_column(JSON)
    heartbeat_at: Mapped[datetime | None]
    worker: Mapped[str | None] = mapped_column(String(200))


class SkuSnapshot(Base):
    """A SKU's units as one completed run saw them (licence history)."""

    __tablename__ = "sku_snapshots"
    __table_args__ = (
        Index("ix_sku_snapshots_tenant_id_sku_id", "tenant_id", "sku_id"),
        # The newest snapshot (the growth sums' freshness) and one day's: index ranges.
        Index("ix_sku_snapshots_tenant_id_captured_at", "tenant_id", "captured_at"),
    )

    run_id: Mapped[int] = mapped_column(
        ForeignKey("sync_runs.id", ondelete="CASCADE"), primary_key=True
    )
    sku_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    captured_at: Mapped[datetime]
    enabled: Mapped[int] = mapped_column(Integer)
    warning: Mapped[int] = mapped_column(Integer)
    suspended: Mapped[int] = mapped_column(Integer)
    locked_out: Mapped[int] = mapped_column(Integer)
    consumed: Mapped[int] = mapped_column(Integer)
