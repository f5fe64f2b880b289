"""Tabular exports: CSV streamed row by row, XLSX written by openpyxl in write-only mode."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from openpyxl import Workbook

from licensewatch.domain import balance
from licensewatch.web.queries.products import SubscriptionRow
from licensewatch.web.queries.users import UserLicence

Cell = str | int | float | bool | None

# The one balance schema (CLI JSON/CSV, REST API and these downloads share it).
BALANCE_COLUMNS = list(balance.BALANCE_COLUMNS)
USER_COLUMNS = [
    "tenant", "user_principal_name", "display_name", "account_enabled", "user_type",
    "department", "country", "sku_part_number", "sku_id", "assignment", "group_name", "state",
    "error",
]  # fmt: skip
SUBSCRIPTION_COLUMNS = [
    "tenant", "sku_part_number", "sku_id", "subscription_id", "status", "total_licenses",
    "trial", "created_at", "next_lifecycle_at", "next_event",
]  # fmt: skip


def _date(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def balance_cells(row: balance.BalanceRow) -> list[Cell]:
    """A balance row in the one schema: ISO dates with offset, booleans as true/false."""
    return row.csv_cells()


def user_cells(row: UserLicence) -> list[Cell]:
    return [
        row.tenant, row.user_principal_name, row.display_name, row.account_enabled,
        row.user_type, row.department, row.country, row.sku_part_number, row.sku_id,
        row.assignment, row.group_name, row.state, row.error,
    ]  # fmt: skip


def subscription_cells(row: SubscriptionRow) -> list[Cell]:
    return [
        row.tenant, row.sku_part_number, row.sku_id, row.id, row.status, row.total_licenses,
        row.trial, _date(row.created_at), _date(row.next_lifecycle_at), row.next_event,
    ]  # fmt: skip


def _csv_value(value: Cell) -> Cell:
    # Spreadsheet apps execute cells starting with these characters as formulas (CSV injection).
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def csv_chunks(columns: list[str], rows: Iterable[list[Cell]]) -> Iterator[str]:
    """CSV text in chunks of about a hundred rows (streamed: the export never sits in memory)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for index, row in enumerate(rows, start=1):
        writer.writerow([_csv_value(v) for v in row])
        if index % 100 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def xlsx_bytes(title: str, columns: list[str], rows: Iterable[list[Cell]]) -> bytes:
    """An XLSX workbook with one sheet: header row, then the rows."""
    workbook: Any = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    sheet.append(columns)
    for row in rows:
        sheet.append([_csv_value(v) for v in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
