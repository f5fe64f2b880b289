"""The renewal plan's growth sums per product and UTC day, kept at publish (a read, not an
aggregate over every snapshot, on a worker's first request).

`renewal_growth_days`: per (tenant, SKU, day) the least-squares sums of that day's unit
snapshots, x in days after the day's midnight UTC and y the consumed units; `day` counts days
since 1970-01-01 UTC. `renewal_growth_builds` names the newest snapshot (`captured_at`) the rows
include: a reader that finds a newer one aggregates the snapshots instead
(intelligence/renewal_growth_store.py).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from licensewatch.storage.models.base import Base


def _tenant_fk() -> ForeignKey:
    return ForeignKey("tenants.id", ondelete="CASCADE")


class GrowthDay(Base):
    """One SKU's snapshots of one UTC day, summed as the growth trend needs them."""

    __tablename__ = "renewal_growth_days"

    tenant_id: Mapped[int] = mapped_column(_tenant_fk(), primary_key=True)
    sku_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    day: Mapped[int] = mapped_column(Integer, primary_key=True)  # days since 1970-01-01 UTC
    n: Mapped[int] = mapped_column(Integer)
    sum_x: Mapped[float] = mapped_column(Float)
    sum_y: Mapped[float] = mapped_column(Float)
    sum_xx: Mapped[float] = mapped_column(Float)
    sum_xy: Mapped[float] = mapped_column(Float)
    min_x: Mapped[float] = mapped_column(Float)
    max_x: Mapped[float] = mapped_column(Float)


class GrowthBuild(Base):
    """The newest snapshot the tenant's growth days include (None: the tenant had none)."""

    __tablename__ = "renewal_growth_builds"

    tenant_id: Mapped[int] = mapped_column(_tenant_fk(), primary_key=True)
    newest_at: Mapped[datetime | None]
