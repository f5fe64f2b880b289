"""The audit log's use cases: record an event in its own short transaction, list events."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select

from licensewatch.storage.database import session_scope
from licensewatch.storage.models.audit import AuditEvent

MAX_DETAIL = 2000


@dataclass(frozen=True, slots=True)
class AuditView:
    at: datetime
    actor: str | None
    address: str | None
    action: str
    outcome: str
    detail: str | None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "at": self.at.isoformat()}


def record(
    engine: Engine,
    action: str,
    actor: str | None,
    address: str | None,
    outcome: str,
    detail: str | None = None,
) -> None:
    """Appends one event; callers never put a secret in `detail` (it is shown to admins)."""
    with session_scope(engine) as session:
        session.add(
            AuditEvent(
                action=action,
                actor=actor,
                address=address,
                outcome=outcome,
                detail=detail[:MAX_DETAIL] if detail else None,
            )
        )


def recent(engine: Engine, limit: int = 100, offset: int = 0) -> list[AuditView]:
    """The newest events first."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit).offset(offset)
    with session_scope(engine, write=False) as session:
        rows = session.scalars(query)
        return [AuditView(r.at, r.actor, r.address, r.action, r.outcome, r.detail) for r in rows]
