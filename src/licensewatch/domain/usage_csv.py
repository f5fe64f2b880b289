"""Streaming parsers of the usage-report CSVs as Microsoft serves them (BOM, CRLF, empty cells).

Columns are found by their documented header names (case and spacing ignored), so a column added
or moved by Microsoft never shifts the values; a missing required column is an error that names it.
Empty cells mean "no activity" (dates) or "unknown" (numbers). The file arrives as byte chunks and
rows leave one at a time: only the columns used are read, and a cell's date or flag is converted
once per distinct text (a report has a few hundred distinct dates, not one per row).
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from itertools import chain, compress
from operator import itemgetter
from typing import Any, NamedTuple, TypeVar

from licensewatch.domain.text import clean_text

WORKLOADS = ("exchange", "onedrive", "sharepoint", "skype", "yammer", "teams")
_WORKLOAD_COLUMNS = (
    "exchange last activity date",
    "onedrive last activity date",
    "sharepoint last activity date",
    "skype for business last activity date",
    "yammer last activity date",
    "teams last activity date",
)
APPS = ("outlook", "word", "excel", "powerpoint", "onenote", "teams")
_CACHED = 4096  # distinct cell texts remembered per conversion (a hostile file cannot grow it)
_T = TypeVar("_T")


class UsageReportError(ValueError):
    """A report file that cannot be read as the documented CSV."""


class ActiveUserRow(NamedTuple):
    """A row of getOffice365ActiveUserDetail (the workloads' last activity dates)."""

    refresh: date | None
    upn: str
    display_name: str
    is_deleted: bool
    exchange: date | None
    onedrive: date | None
    sharepoint: date | None
    skype: date | None
    yammer: date | None
    teams: date | None


class AppUserRow(NamedTuple):
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


class MailboxRow(NamedTuple):
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


def _blocks(chunks: Iterable[bytes], report: str) -> Iterator[io.StringIO]:
    """Whole lines of text as they arrive (a line never straddles two blocks; CRLF kept)."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()  # Microsoft's files start with a BOM
    tail = ""
    try:
        for chunk in chunks:
            text = tail + decoder.decode(chunk)
            end = text.rfind("\n") + 1
            tail = text[end:]
            if end:
                yield io.StringIO(text[:end], newline="")
        tail += decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise UsageReportError(f"{report}: the file is not UTF-8 text") from None
    if tail:
        yield io.StringIO(tail, newline="")


class _Columns:
    """A file's header: where each wanted column is, and a getter of those cells from a line."""

    def __init__(self, header: list[str], report: str, required: tuple[str, ...]) -> None:
        keys = [_key(name) for name in header]
        missing = [name for name in required if name not in keys]
        if missing:
            raise UsageReportError(f"{report}: the CSV has no column {', '.join(missing)!r}")
        self._index = {k: i for i, k in enumerate(keys)}  # a repeated name: its last column
        self.absent = len(keys)  # where a line's missing column reads an empty cell
        self.width = 0  # the cells a line needs (set by the getters): shorter ones are padded

    def getter(self, names: tuple[str, ...]) -> Callable[[list[str]], Any]:
        """The cells of `names` (at least two) from a padded line, as one tuple."""
        indices = [self._index.get(name, self.absent) for name in names]
        self.width = max(self.width, *(i + 1 for i in indices))
        return itemgetter(*indices)


def _open(
    chunks: Iterable[bytes], report: str, required: tuple[str, ...]
) -> tuple[_Columns, Iterator[list[str]]] | None:
    """The header's columns and the lines after it; None for an empty file."""
    reader = csv.reader(chain.from_iterable(_blocks(chunks, report)))
    header = next(reader, None)
    if header is None:
        return None
    columns = _Columns(header, report, required)
    return columns, _padded(reader, columns)


def _padded(reader: Iterator[list[str]], columns: _Columns) -> Iterator[list[str]]:
    """Each non-blank line, padded with empty cells to the columns the getters read."""
    width = columns.width  # read at the first line, once the getters are made
    for line in reader:
        if not line or (not line[0].strip() and not any(cell.strip() for cell in line)):
            continue  # a trailing blank line
        if len(line) < width:
            line += [""] * (width - len(line))
        yield line


def _text(cell: str) -> str:
    # Names come from the tenant (attacker-controlled): cleaned as the sync cleans them, so
    # a UPN still matches the stored user and no NUL reaches the database.
    return cell.strip() if cell.isprintable() else clean_text(cell).strip()


class _Converted(dict[str, _T]):
    """Cell text -> its value, converted on the first sight only (`converted[cell]`)."""

    def __init__(self, convert: Callable[[str], _T]) -> None:
        super().__init__()
        self._convert = convert

    def __missing__(self, cell: str) -> _T:
        value = self._convert(_text(cell))
        if len(self) >= _CACHED:
            self.clear()
        self[cell] = value
        return value


def _dates(report: str) -> _Converted[date | None]:
    def parse(text: str) -> date | None:
        if not text:
            return None
        try:
            return date.fromisoformat(text[:10])
        except ValueError:
            raise UsageReportError(f"{report}: {text!r} is not a date (YYYY-MM-DD)") from None

    return _Converted(parse)


def _flags() -> _Converted[bool]:
    return _Converted(lambda text: text.lower() in {"true", "yes", "1"})


def _int(cell: str, report: str) -> int | None:
    text = _text(cell)
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise UsageReportError(f"{report}: {text!r} is not a whole number") from None


_ACTIVE = "getOffice365ActiveUserDetail"
_APPS = "getM365AppUserDetail"
_MAILBOX = "getMailboxUsageDetail"
_IDS = ("report refresh date", "user principal name")


def iter_active_users(chunks: Iterable[bytes]) -> Iterator[ActiveUserRow]:
    """getOffice365ActiveUserDetail's rows, one at a time, as the chunks arrive."""
    opened = _open(chunks, _ACTIVE, (*_IDS, *_WORKLOAD_COLUMNS))
    if opened is None:
        return
    columns, lines = opened
    get = columns.getter((*_IDS, "display name", "is deleted", *_WORKLOAD_COLUMNS))
    day, flag = _dates(_ACTIVE), _flags()
    for line in lines:
        refresh, upn, name, deleted, ex, od, sp, sk, ya, te = get(line)
        yield ActiveUserRow(
            day[refresh], _text(upn), _text(name), flag[deleted],
            day[ex], day[od], day[sp], day[sk], day[ya], day[te],
        )  # fmt: skip


def iter_app_users(chunks: Iterable[bytes]) -> Iterator[AppUserRow]:
    """getM365AppUserDetail's rows, one at a time."""
    opened = _open(chunks, _APPS, (*_IDS, "last activity date", "windows"))
    if opened is None:
        return
    columns, lines = opened
    names = ("last activation date", "last activity date", "windows", "mac", "mobile", "web")
    get = columns.getter((*_IDS, *names, *APPS))
    day, flag = _dates(_APPS), _flags()
    for line in lines:
        cells = get(line)
        used = tuple(compress(APPS, map(flag.__getitem__, cells[8:])))
        yield AppUserRow(
            day[cells[0]], _text(cells[1]), day[cells[2]], day[cells[3]],
            flag[cells[4]], flag[cells[5]], flag[cells[6]], flag[cells[7]], used,
        )  # fmt: skip


def iter_mailboxes(chunks: Iterable[bytes]) -> Iterator[MailboxRow]:
    """getMailboxUsageDetail's rows, one at a time."""
    opened = _open(chunks, _MAILBOX, (*_IDS, "storage used (byte)"))
    if opened is None:
        return
    columns, lines = opened
    names = ("display name", "is deleted", "last activity date", "item count")
    quota = "prohibit send/receive quota (byte)"
    get = columns.getter((*_IDS, *names, "storage used (byte)", quota))
    day, flag = _dates(_MAILBOX), _flags()
    for line in lines:
        refresh, upn, name, deleted, last, items, used, limit = get(line)
        yield MailboxRow(
            day[refresh], _text(upn), _text(name), flag[deleted], day[last],
            _int(items, _MAILBOX), _int(used, _MAILBOX), _int(limit, _MAILBOX),
        )  # fmt: skip


def parse_active_users(data: bytes) -> list[ActiveUserRow]:
    """A whole file's rows (tests and small files; a collection streams `iter_active_users`)."""
    return list(iter_active_users((data,)))


def parse_app_users(data: bytes) -> list[AppUserRow]:
    return list(iter_app_users((data,)))


def parse_mailboxes(data: bytes) -> list[MailboxRow]:
    return list(iter_mailboxes((data,)))
