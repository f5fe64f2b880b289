"""Parsers of the usage-report CSV files exactly as Microsoft serves them (BOM, CRLF, empty cells).

Columns are found by their documented header names (case and spacing ignored), so a column added
or moved by Microsoft never shifts the values; a missing required column is an error that names it.
Empty cells mean "no activity" (dates) or "unknown" (numbers).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

WORKLOADS = ("exchange", "onedrive", "sharepoint", "skype", "yammer", "teams")
_WORKLOAD_COLUMNS = {
    "exchange": "exchange last activity date",
    "onedrive": "onedrive last activity date",
    "sharepoint": "sharepoint last activity date",
    "skype": "skype for business last activity date",
    "yammer": "yammer last activity date",
    "teams": "teams last activity date",
}
APPS = ("outlook", "word", "excel", "powerpoint", "onenote", "teams")


class UsageReportError(ValueError):
    """A report file that cannot be read as the documented CSV."""


@dataclass(frozen=True)
class ActiveUserRow:
    """A row of getOffice365ActiveUserDetail."""

    refresh: date | None
    upn: str
    display_name: str
    is_deleted: bool
    last: dict[str, date | None]  # workload -> last activity date
    assigned_products: str


@dataclass(frozen=True)
class AppUserRow:
    """A row of getM365AppUserDetail: the platforms and apps used in the period."""

    refresh: date | None
    upn: str
    last_activation: date | None
    last_activity: date | None
    windows: bool
    mac: bool
    mobile: bool
    web: bool
    apps: tuple[str, ...]


@dataclass(frozen=True)
class MailboxRow:
    """A row of getMailboxUsageDetail."""

    refresh: date | None
    upn: str
    display_name: str
    is_deleted: bool
    last_activity: date | None
    item_count: int | None
    storage_used: int | None
    prohibit_send_receive_quota: int | None


def _key(name: str) -> str:
    return " ".join(name.replace("\ufeff", "").strip().lower().split())


def _rows(data: bytes, report: str, required: tuple[str, ...]) -> Iterator[dict[str, str]]:
    try:
        text = data.decode("utf-8-sig")  # Microsoft's files start with a byte order mark
    except UnicodeDecodeError:
        raise UsageReportError(f"{report}: the file is not UTF-8 text") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        return
    keys = [_key(name) for name in header]
    missing = [name for name in required if name not in keys]
    if missing:
        raise UsageReportError(f"{report}: the CSV has no column {', '.join(missing)!r}")
    for line in reader:
        if not any(cell.strip() for cell in line):
            continue  # a trailing blank line
        yield {k: (line[i].strip() if i < len(line) else "") for i, k in enumerate(keys)}


def _date(text: str, report: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise UsageReportError(f"{report}: {text!r} is not a date (YYYY-MM-DD)") from None


def _bool(text: str) -> bool:
    return text.strip().lower() in {"true", "yes", "1"}


def _int(text: str, report: str) -> int | None:
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise UsageReportError(f"{report}: {text!r} is not a whole number") from None


_ACTIVE = "getOffice365ActiveUserDetail"
_APPS = "getM365AppUserDetail"
_MAILBOX = "getMailboxUsageDetail"


def parse_active_users(data: bytes) -> list[ActiveUserRow]:
    required = ("report refresh date", "user principal name", *_WORKLOAD_COLUMNS.values())
    return [
        ActiveUserRow(
            _date(row["report refresh date"], _ACTIVE),
            row["user principal name"],
            row.get("display name", ""),
            _bool(row.get("is deleted", "")),
            {w: _date(row[c], _ACTIVE) for w, c in _WORKLOAD_COLUMNS.items()},
            row.get("assigned products", ""),
        )
        for row in _rows(data, _ACTIVE, required)
    ]


def parse_app_users(data: bytes) -> list[AppUserRow]:
    required = ("report refresh date", "user principal name", "last activity date", "windows")
    return [
        AppUserRow(
            _date(row["report refresh date"], _APPS),
            row["user principal name"],
            _date(row.get("last activation date", ""), _APPS),
            _date(row["last activity date"], _APPS),
            _bool(row["windows"]),
            _bool(row.get("mac", "")),
            _bool(row.get("mobile", "")),
            _bool(row.get("web", "")),
            tuple(app for app in APPS if _bool(row.get(app, ""))),
        )
        for row in _rows(data, _APPS, required)
    ]


def parse_mailboxes(data: bytes) -> list[MailboxRow]:
    required = ("report refresh date", "user principal name", "storage used (byte)")
    return [
        MailboxRow(
            _date(row["report refresh date"], _MAILBOX),
            row["user principal name"],
            row.get("display name", ""),
            _bool(row.get("is deleted", "")),
            _date(row.get("last activity date", ""), _MAILBOX),
            _int(row.get("item count", ""), _MAILBOX),
            _int(row["storage used (byte)"], _MAILBOX),
            _int(row.get("prohibit send/receive quota (byte)", ""), _MAILBOX),
        )
        for row in _rows(data, _MAILBOX, required)
    ]
