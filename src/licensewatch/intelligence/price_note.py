"""A note shown wherever prices are used: e.g. that they are the demo's, not a real contract's."""

from __future__ import annotations

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from licensewatch.services.audit import append
from licensewatch.storage.database import session_scope
from licensewatch.storage.models.intelligence import IntelligenceSetting

KEY = "price_note"  # a row of intelligence_settings that read_settings() leaves alone


def price_note(session: Session) -> str | None:
    """The note, or None when prices need no comment."""
    value: str | None = session.scalar(
        select(IntelligenceSetting.value).where(IntelligenceSetting.key == KEY)
    )
    return value or None


def set_price_note(engine: Engine, note: str | None) -> None:
    """Store the note (None or empty: remove it)."""
    with session_scope(engine) as session:
        row = session.get(IntelligenceSetting, KEY)
        if not note:
            if row is not None:
                session.delete(row)
                append(session, "setting.changed", {"key": KEY, "value": None})
            return
        if row is None:
            session.add(IntelligenceSetting(key=KEY, value=note[:400]))
        else:
            row.value = note[:400]
        append(session, "setting.changed", {"key": KEY, "value": note[:400]})
