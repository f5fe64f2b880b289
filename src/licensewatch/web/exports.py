"""Tabular exports: CSV streamed row by row, XLSX written by openpyxl in write-only mode.

Every cell goes through the one cell rule (`licensewatch.tabular`, `domain.cells`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from openpyxl import Workbook

from licensewatch.domain import balance
from licensewatch.intelligence.history import Change
from licensewatch.sync import user_stream
from licensewatch.tabular import csv_row, xlsx_row
from licensewatch.web.queries.products import SubscriptionRow
from licensewatch.web.queries.users import UserLicence

Cell = str | int | float | bool | None

# The one balance schema (CLI JSON/CSV, REST API and these downloads share it).
BALANCE_COLUMNS = list(balance.BALANCE_COLUMNS)
# The user's own columns are the declared stream's exported ones (sync/user_stream.py).
USER_COLUMNS = [
    "tenant", *user_stream.EXPORTED, "product", "sku_part_number", "sku_id", "assignment",
    "group_name", "state", "error",
]  # fmt: skip
SUBSCRIPTION_COLUMNS = [
    "tenant", "product", "sku_part_number", "sku_id", "subscription_id", "status",
    "total_licenses", "trial", "created_at", "next_lifecycle_at", "next_event",
]  # fmt: skip

CHANGE_COLUMNS = [
    "occurred_at", "tenant", "kind", "user_principal_name", "user_id", "product",
    "sku_part_number", "sku_id", "group_name", "assigned_by_group", "detail", "run_id", "note",
]  # fmt: skip


def _date(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def balance_cells(row: balance.BalanceRow) -> list[Cell]:
    """A balance row in the one schema: ISO dates with offset, booleans as true/false."""
    return row.csv_cells()


def user_cells(row: UserLicence) -> list[Cell]:
    own: list[Cell] = [getattr(row, name) for name in user_stream.EXPORTED]
    return [
        row.tenant, *own, row.product, row.sku_part_number, row.sku_id, row.assignment,
        row.group_name, row.state, row.error,
    ]  # fmt: skip


def subscription_cells(row: SubscriptionRow) -> list[Cell]:
    return [
        row.tenant, row.product, row.sku_part_number, row.sku_id, row.id, row.status,
        row.total_licenses, row.trial, _date(row.created_at), _date(row.next_lifecycle_at),
        row.next_event,
    ]  # fmt: skip


def change_cells(row: Change) -> list[Cell]:
    return [
        _date(row.occurred_at), row.tenant, row.kind, row.user_principal_name, row.user_id,
        row.product, row.sku_part_number, row.sku_id, row.group_name, row.assigned_by_group,
        row.description, row.run_id, row.note,
    ]  # fmt: skip


def csv_chunks(columns: list[str], rows: Iterable[list[Cell]]) -> Iterator[str]:
    """CSV text in chunks of about a hundred rows (streamed: the export never sits in memory)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(csv_row(columns))
    for index, row in enumerate(rows, start=1):
        writer.writerow(csv_row(row))
        if index % 100 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def xlsx_bytes(title: str, columns: list[str], rows: Iterable[list[Cell]]) -> bytes:
    """An XLSX workbook with one sheet: header row, then the rows."""
    workbook: Any = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    sheet.append(xlsx_row(sheet, columns))
    for row in rows:
        sheet.append(xlsx_row(sheet, row))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
