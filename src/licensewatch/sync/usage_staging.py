"""The three usage reports streamed into staging: parsed as their bytes arrive, staged in batches.

Memory stays flat with the tenant: a batch of rows and the tally's per-date counters at most.
Concealed names (hashed UPNs) are tallied but never staged when the setting says so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from sqlalchemy import Engine

from licensewatch.domain.usage import Period
from licensewatch.domain.usage_csv import iter_active_users, iter_app_users, iter_mailboxes
from licensewatch.domain.usage_tally import UsageTally
from licensewatch.graph.client import GraphClient
from licensewatch.graph.reports import Report, open_report
from licensewatch.storage.usage_staging import ACTIVE, APPS, MAILBOXES, stage

BATCH = 2000  # staged rows per insert and commit

_Staged = Iterator[tuple[str, bool, dict[str, Any]]]  # (UPN, deleted, the report's columns)
_Rows = Callable[[Iterable[bytes], UsageTally], _Staged]


def _active(chunks: Iterable[bytes], tally: UsageTally) -> _Staged:
    for row in iter_active_users(chunks):
        tally.active(row)
        values = {
            "display_name": row.display_name[:400] or None,
            "report_refresh_date": row.refresh,
            "exchange_last": row.exchange,
            "onedrive_last": row.onedrive,
            "sharepoint_last": row.sharepoint,
            "skype_last": row.skype,
            "yammer_last": row.yammer,
            "teams_last": row.teams,
        }
        yield row.upn, row.is_deleted, values


def _apps(chunks: Iterable[bytes], tally: UsageTally) -> _Staged:
    for row in iter_app_users(chunks):
        tally.app(row)
        values = {
            "apps_last": row.last_activity,
            "windows": row.windows,
            "mac": row.mac,
            "mobile": row.mobile,
            "web": row.web,
            "apps_used": ",".join(row.apps)[:200] or None,
        }
        yield row.upn, False, values


def _mailboxes(chunks: Iterable[bytes], tally: UsageTally) -> _Staged:
    for row in iter_mailboxes(chunks):
        tally.mailbox(row)
        values = {
            "mailbox_last": row.last_activity,
            "storage_used_bytes": row.storage_used,
            "item_count": row.item_count,
            "prohibit_send_receive_quota_bytes": row.prohibit_send_receive_quota,
        }
        yield row.upn, row.is_deleted, values


_REPORTS: tuple[tuple[Report, int, _Rows], ...] = (
    (Report.ACTIVE_USERS, ACTIVE, _active),
    (Report.APP_USERS, APPS, _apps),
    (Report.MAILBOXES, MAILBOXES, _mailboxes),
)


def stream_reports(
    engine: Engine,
    client: GraphClient,
    period: Period,
    tenant_pk: int,
    attempt: str,
    *,
    staged: bool,
) -> UsageTally:
    """Read the three reports in turn; stage their rows under `attempt` when `staged`."""
    tally = UsageTally()
    for report, number, rows in _REPORTS:
        batch: list[dict[str, Any]] = []
        with open_report(client, report, period.value) as chunks:
            for seq, (upn, deleted, values) in enumerate(rows(chunks, tally)):
                if not staged:
                    continue
                key = upn.strip().lower()[:400]
                if not key:
                    continue
                values.update(
                    attempt=attempt,
                    report=number,
                    seq=seq,
                    tenant_id=tenant_pk,
                    user_key=key,
                    is_deleted=deleted,
                )
                batch.append(values)
                if len(batch) >= BATCH:
                    stage(engine, batch)
                    batch = []
        stage(engine, batch)
    return tally
