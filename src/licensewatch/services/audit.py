"""The audit log's use cases: record an event (in the change's transaction or its own), list events.

The log is append-only: nothing here (or anywhere in the package) updates or deletes an event,
and the database refuses both (migration 0009's triggers).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, select
from sqlalchemy.orm import Session

from licensewatch.security.redaction import redact
from licensewatch.services.acting import current
from licensewatch.storage.database import session_scope, write_transaction
from licensewatch.storage.models.audit import AuditEvent

MAX_DETAIL = 2000
_MAX_VALUE = 200
DetailValue = str | int | bool | None | Sequence[str]
# Detail keys that would name a secret: refused outright, so a careless caller fails in tests
# instead of writing a credential into a log every administrator can read.
_SECRET_KEY = re.compile(r"(?i)secret|password|passwd|token_value|private|pem|certificate_body|url")
_BARE = re.compile(r"[A-Za-z0-9_.:@/+-]+")


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


def format_detail(detail: Mapping[str, DetailValue]) -> str | None:
    """`key=value` pairs (logfmt): short, structured, greppable; None values left out."""
    parts: list[str] = []
    for key, value in detail.items():
        if _SECRET_KEY.search(key):
            raise ValueError(f"audit detail {key!r} names a secret: never record one")
        if value is None:
            continue
        if isinstance(value, bool):
            text = "yes" if value else "no"
        elif isinstance(value, int):
            text = str(value)
        elif isinstance(value, str):
            text = value
        else:
            text = ",".join(value)
        text = redact(text)[:_MAX_VALUE]  # a second guard: anything secret-shaped is masked
        parts.append(f"{key}={text}" if _BARE.fullmatch(text) else f"{key}={_quoted(text)}")
    return " ".join(parts)[:MAX_DETAIL] or None


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def append(
    db: Session | Connection,
    action: str,
    detail: Mapping[str, DetailValue] | None = None,
    *,
    outcome: str = "ok",
) -> None:
    """Adds the current actor's event to the caller's transaction: a change and its record
    commit together, or neither does."""
    acting = current()
    db.execute(
        insert(AuditEvent).values(
            action=action,
            actor=acting.name,
            address=acting.address,
            outcome=outcome,
            detail=format_detail(detail or {}),
        )
    )


def note(
    engine: Engine,
    action: str,
    detail: Mapping[str, DetailValue] | None = None,
    *,
    outcome: str = "ok",
) -> None:
    """The current actor's event in its own short transaction (an export, a refused action)."""
    with write_transaction(engine) as connection:
        append(connection, action, detail, outcome=outcome)


def recent(engine: Engine, limit: int = 100, offset: int = 0) -> list[AuditView]:
    """The newest events first."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit).offset(offset)
    with session_scope(engine, write=False) as session:
        rows = session.scalars(query)
        return [AuditView(r.at, r.actor, r.address, r.action, r.outcome, r.detail) for r in rows]
