"""The three usage reports streamed into staging: parsed as their bytes arrive, staged in batches.

Memory stays flat with the tenant: a batch of rows and the tally's per-date counters at most.
Concealed names (hashed UPNs) are tallied but never staged when the setting says so.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from datetime import date
from typing import Any

from sqlalchemy import Engine

from licensewatch.domain.usage import Period
from licensewatch.domain.usage_csv import (
    ActiveUserRow,
    AppUserRow,
    MailboxRow,
    iter_active_users,
    iter_app_users,
    iter_mailboxes,
)
from licensewatch.domain.usage_tally import UsageTally
from licensewatch.graph.client import GraphClient
from licensewatch.graph.reports import DownloadInterrupted, Report, open_report
from licensewatch.storage.usage_staging import ACTIVE, APPS, MAILBOXES, Stager, date_encoder

BATCH = 5000  # staged rows per transaction (the last ones are written with the merge)
DOWNLOAD_ATTEMPTS = 3  # a report whose download broke mid-file is read again, from its start
log = logging.getLogger(__name__)

Staged = Iterator[tuple[str, bool, tuple[Any, ...]]]  # UPN, deleted, the report's columns
Encode = Callable[[date | None], Any]
# How a report's bytes are opened: `open_report` (downloaded now) or a prefetch's spool.
Opener = Callable[[GraphClient, Report, str], AbstractContextManager[Iterator[bytes]]]


def active_values(rows: Iterable[ActiveUserRow], tally: UsageTally, day: Encode) -> Staged:
    """Each active-users row tallied, and its staged columns (`COLUMNS[ACTIVE]` after the keys)."""
    for row in rows:
        tally.active(row)
        yield row.upn, row.is_deleted, (
            row.display_name[:400] or None, day(row.refresh), day(row.exchange),
            day(row.onedrive), day(row.sharepoint), day(row.skype), day(row.yammer),
            day(row.teams),
        )  # fmt: skip


def app_values(rows: Iterable[AppUserRow], tally: UsageTally, day: Encode) -> Staged:
    """Each apps row tallied, and its staged columns."""
    for row in rows:
        tally.app(row)
        yield row.upn, False, (
            day(row.last_activity), row.windows, row.mac, row.mobile, row.web,
            ",".join(row.apps)[:200] or None,
        )  # fmt: skip


def mailbox_values(rows: Iterable[MailboxRow], tally: UsageTally, day: Encode) -> Staged:
    """Each mailbox row tallied, and its staged columns."""
    for row in rows:
        tally.mailbox(row)
        yield row.upn, row.is_deleted, (
            day(row.last_activity), row.storage_used, row.prohibit_send_receive_quota,
            row.item_count,
        )  # fmt: skip


def _active(chunks: Iterable[bytes], tally: UsageTally, day: Encode) -> Staged:
    return active_values(iter_active_users(chunks), tally, day)


def _apps(chunks: Iterable[bytes], tally: UsageTally, day: Encode) -> Staged:
    return app_values(iter_app_users(chunks), tally, day)


def _mailboxes(chunks: Iterable[bytes], tally: UsageTally, day: Encode) -> Staged:
    return mailbox_values(iter_mailboxes(chunks), tally, day)


_REPORTS: tuple[
    tuple[Report, int, Callable[[Iterable[bytes], UsageTally, Encode], Staged]], ...
] = (
    (Report.ACTIVE_USERS, ACTIVE, _active),
    (Report.APP_USERS, APPS, _apps),
    (Report.MAILBOXES, MAILBOXES, _mailboxes),
)


def new_stager(engine: Engine) -> Stager:
    """A stager of `BATCH` rows per transaction."""
    return Stager(engine, BATCH)


def stream_reports(
    stager: Stager | None,
    client: GraphClient,
    period: Period,
    tenant_pk: int,
    attempt: str,
    opener: Opener = open_report,
) -> UsageTally:
    """Read the three reports in turn; hand their rows to `stager` (None: tally only)."""
    tally = UsageTally()
    day = date_encoder(stager.engine if stager else None)
    for report, number, rows in _REPORTS:
        for tries in range(1, DOWNLOAD_ATTEMPTS + 1):
            try:
                with opener(client, report, period.value) as chunks:
                    for seq, (upn, deleted, values) in enumerate(rows(chunks, tally, day)):
                        if stager is None:
                            continue
                        if key := upn.strip().lower()[:400]:
                            row = (attempt, number, seq, tenant_pk, key, deleted, *values)
                            stager.add(number, row)
                break
            except DownloadInterrupted as exc:
                if tries == DOWNLOAD_ATTEMPTS:
                    raise
                # A broken file cannot be resumed: the report is asked for again, from scratch.
                log.warning(
                    "%s; reading it again (attempt %d of %d)", exc, tries + 1, DOWNLOAD_ATTEMPTS
                )
                tally.forget(number)
                if stager is not None:
                    stager.forget(number, attempt)
    return tally
