"""The change history as the pages, the API and the CSV export read it: filters, pages, chunks."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.orm import Session

from licensewatch.intelligence.history import Change, ChangeQuery, change_history, every_change
from licensewatch.web.queries import keyset
from licensewatch.web.queries.common import Page, clamp, make_page, tenant_refs

EXPORT_CHUNK = 2000
LIST = "changes"


class BadFilter(ValueError):
    """A filter value that cannot be read (an unparsable date)."""


def parse_moment(text: str, *, end_of_day: bool = False) -> datetime | None:
    """`2026-03-01` (a day: its start, or the next day's start when `end_of_day`) or an ISO
    date-time (without an offset: UTC); None when empty."""
    text = text.strip()
    if not text:
        return None
    try:
        if len(text) == 10:
            start = datetime.combine(date.fromisoformat(text), time(), tzinfo=UTC)
            return start + timedelta(days=1) if end_of_day else start
        moment = datetime.fromisoformat(text)
    except OverflowError:  # the day after 9999-12-31
        raise BadFilter(f"{text!r} is out of range") from None
    except ValueError:
        raise BadFilter(
            f"{text!r} is not a date: use YYYY-MM-DD or an ISO date-time such as "
            "2026-03-01T08:00:00+00:00"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class ChangeFilter:
    """The filters of the changes page and `GET /api/v1/changes`, as typed (empty = none)."""

    tenant: str = ""
    sku_id: str = ""
    user: str = ""
    user_id: str = ""
    kind: str = ""
    since: str = ""
    until: str = ""

    def query(self) -> ChangeQuery:
        """The history query; BadFilter when a date cannot be read."""
        return ChangeQuery(
            tenant=self.tenant or None,
            sku_id=self.sku_id.strip() or None,
            user=self.user.strip() or None,
            user_id=self.user_id.strip() or None,
            kind=self.kind or None,
            since=parse_moment(self.since),
            until=parse_moment(self.until, end_of_day=True),
        )

    def params(self) -> dict[str, str]:
        """The non-empty filters, for links (paging, export)."""
        return {key: value for key, value in vars(self).items() if value}


def in_scope(session: Session, query: ChangeQuery) -> ChangeQuery:
    """The query limited to the tenants the caller may see (tenant_refs applies the scope)."""
    return replace(query, tenants=frozenset(ref.name for ref in tenant_refs(session)))


def change_page(
    session: Session, query: ChangeQuery, *, limit: int = 100, offset: int = 0, cursor: str = ""
) -> Page[Change]:
    """One page of the history, newest first, after `cursor` (BadCursor when not ours)."""
    limit, offset = clamp(limit, offset)
    before = None
    if cursor:
        moment, change_id = keyset.decode(LIST, cursor, (str, int))
        try:
            before = (datetime.fromisoformat(moment), change_id)
        except ValueError:
            raise keyset.BadCursor("the cursor is not one this list gave out") from None
    rows = change_history(session, query, limit=limit + 1, offset=offset, before=before)
    last = rows[limit - 1] if len(rows) > limit else None
    next_at = None if last is None else keyset.encode(LIST, last.occurred_at.isoformat(), last.id)
    return make_page(rows, limit, offset, cursor=next_at)


def all_changes(session: Session, query: ChangeQuery) -> Iterator[Change]:
    """Every matching change for exports: tenant by tenant, newest first, read in chunks."""
    return every_change(session, query, EXPORT_CHUNK)
