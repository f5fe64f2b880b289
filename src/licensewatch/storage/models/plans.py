"""Change plans: reviewed lists of licence changes (users × SKU) and each line's applied state."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from licensewatch.storage.models.base import Base, utcnow

GUID = String(36)


class ChangePlan(Base):
    """A plan of one tenant: drafted, approved by an admin, applied, confirmed by a delta sync."""

    __tablename__ = "change_plans"
    __table_args__ = (Index("ix_change_plans_tenant_id", "tenant_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20))  # a domain.plans.PlanStatus value
    source: Mapped[str] = mapped_column(String(20))  # manual | recommendations | undo
    # The plan an undo plan reverses (no FK: a plan outlives nothing it points at but its tenant).
    reverses_plan_id: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(400))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    approved_by: Mapped[str | None] = mapped_column(String(400))
    approved_at: Mapped[datetime | None]
    applied_by: Mapped[str | None] = mapped_column(String(400))
    applied_at: Mapped[datetime | None]  # the first apply started
    finished_at: Mapped[datetime | None]  # every line reached a final state
    confirmed_at: Mapped[datetime | None]  # the delta sync after applying checked each line
    # The process applying it now (`host:pid:random`) and its last sign of life: one at a time.
    apply_owner: Mapped[str | None] = mapped_column(String(200))
    apply_heartbeat_at: Mapped[datetime | None]


class ChangePlanLine(Base):
    """One user × SKU change and its state; the state is written before and after each call."""

    __tablename__ = "change_plan_lines"
    __table_args__ = (Index("ix_change_plan_lines_plan_id", "plan_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("change_plans.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[str] = mapped_column(GUID)
    user_principal_name: Mapped[str | None] = mapped_column(String(400))
    action: Mapped[str] = mapped_column(String(20))  # a domain.plans.LineAction value
    sku_id: Mapped[str] = mapped_column(GUID)  # removed (remove, swap) or added (add)
    target_sku_id: Mapped[str | None] = mapped_column(GUID)  # a swap's new SKU
    # Disabled plans sent with the added SKU (comma-joined service plan ids).
    add_disabled_plans: Mapped[str | None] = mapped_column(Text)
    # The removed assignment's disabled plans, read just before the call: what undo restores.
    prior_disabled_plans: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    monthly_saving: Mapped[str | None] = mapped_column(String(32))  # decimal text, exact
    currency: Mapped[str | None] = mapped_column(String(3))
    state: Mapped[str] = mapped_column(String(20))  # a domain.plans.LineState value
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    request_id: Mapped[str | None] = mapped_column(String(64))
    error_code: Mapped[str | None] = mapped_column(String(100))
    error: Mapped[str | None] = mapped_column(Text)
    applied_at: Mapped[datetime | None]
    checked_at: Mapped[datetime | None]  # confirmed or found drifted by a delta sync
    reverses_line_id: Mapped[int | None] = mapped_column(Integer)  # an undo line's original
    undone_by_plan_id: Mapped[int | None] = mapped_column(Integer)
