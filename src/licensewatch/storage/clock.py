"""The storage layer's clock, importable without SQLAlchemy (the CLI's quick reads use it)."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """The storage layer's clock."""
    return datetime.now(UTC)
