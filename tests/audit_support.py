"""Helpers of the audit log tests: the events since a mark, and a scan of every stored event."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, func, select

from licensewatch.storage.database import read_transaction
from licensewatch.storage.models.audit import AuditEvent


@dataclass(frozen=True)
class Event:
    actor: str | None
    address: str | None
    action: str
    outcome: str
    detail: str | None


def last_id(engine: Engine) -> int:
    with read_transaction(engine) as connection:
        return int(connection.scalar(select(func.max(AuditEvent.id))) or 0)


def events_after(engine: Engine, mark: int) -> list[Event]:
    """The events recorded after `mark` (an id from `last_id`), oldest first."""
    columns = (AuditEvent.actor, AuditEvent.address, AuditEvent.action, AuditEvent.outcome)
    query = select(*columns, AuditEvent.detail).where(AuditEvent.id > mark).order_by(AuditEvent.id)
    with read_transaction(engine) as connection:
        return [Event(*row) for row in connection.execute(query)]


def assert_no_secret(engine: Engine, secrets: list[str]) -> None:
    """No stored event holds any of `secrets` (or a 16-character piece of one) in any column."""
    pieces = {s for s in secrets if s} | {s[i : i + 16] for s in secrets for i in (0, len(s) // 2)}
    pieces = {p for p in pieces if len(p) >= 8}
    with read_transaction(engine) as connection:
        rows = connection.execute(select(AuditEvent)).all()
    assert rows, "no event at all: the scan would prove nothing"
    for row in rows:
        text = " ".join(str(value) for value in row)
        leaked = [p for p in pieces if p in text]
        assert not leaked, f"event {row} holds a secret"
