"""The usage-report CSV parsers read Microsoft's files as served: BOM, CRLF, empty cells, quotes."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from licensewatch.domain.usage import Period, capabilities, mailbox_fits, parse_period
from licensewatch.domain.usage_csv import (
    UsageReportError,
    parse_active_users,
    parse_app_users,
    parse_mailboxes,
)
from licensewatch.settings import load_settings

_NAMES = ("Exchange", "OneDrive", "SharePoint", "Skype For Business", "Yammer", "Teams")
ACTIVE_HEADER = ",".join(
    [
        "Report Refresh Date,User Principal Name,Display Name,Is Deleted,Deleted Date",
        *(f"Has {n} License" for n in _NAMES),
        *(f"{n} Last Activity Date" for n in _NAMES),
        *(f"{n} License Assign Date" for n in _NAMES),
        "Assigned Products",
    ]
)


def _file(*lines: str) -> bytes:
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode()


def test_active_users_with_bom_crlf_empty_cells_and_quoted_commas() -> None:
    row = (
        '2026-11-30,anna@contoso.com,"Smith, Anna",False,,True,True,True,True,False,True,'
        "2026-11-29,,2026-10-01,,,2026-11-28,,,,,,,OFFICE 365 E3"
    )
    (parsed,) = parse_active_users(_file(ACTIVE_HEADER, row, ""))
    assert parsed.refresh == date(2026, 11, 30)
    assert (parsed.upn, parsed.display_name, parsed.is_deleted) == (
        "anna@contoso.com",
        "Smith, Anna",
        False,
    )
    assert parsed.exchange == date(2026, 11, 29)
    assert parsed.onedrive is None
    assert parsed.teams == date(2026, 11, 28)


def test_apps_and_mailboxes() -> None:
    apps = _file(
        "Report Refresh Date,User Principal Name,Last Activation Date,Last Activity Date,"
        "Report Period,Windows,Mac,Mobile,Web,Outlook,Word,Excel,PowerPoint,OneNote,Teams",
        "2026-11-30,a@b.com,2025-01-02,2026-11-20,90,False,False,Yes,True,True,False,False,"
        "False,False,True",
    )
    (app,) = parse_app_users(apps)
    assert (app.windows, app.mac, app.mobile, app.web) == (False, False, True, True)
    assert app.apps == ("outlook", "teams")
    boxes = _file(
        "Report Refresh Date,User Principal Name,Display Name,Is Deleted,Deleted Date,"
        "Created Date,Last Activity Date,Item Count,Storage Used (Byte),"
        "Issue Warning Quota (Byte),Prohibit Send Quota (Byte),"
        "Prohibit Send/Receive Quota (Byte),Deleted Item Count,Deleted Item Size (Byte),"
        "Report Period",
        "2026-11-30,a@b.com,A,False,,2020-01-01,,12,1048576,,,2147483648,0,0,90",
    )
    (box,) = parse_mailboxes(boxes)
    assert (box.storage_used, box.prohibit_send_receive_quota, box.last_activity) == (
        1048576,
        2147483648,
        None,
    )


def test_a_missing_column_or_a_bad_value_is_named() -> None:
    with pytest.raises(UsageReportError, match="teams last activity date"):
        parse_active_users(_file("Report Refresh Date,User Principal Name"))
    header = "Report Refresh Date,User Principal Name,Storage Used (Byte)"
    with pytest.raises(UsageReportError, match="not a whole number"):
        parse_mailboxes(_file(header, "2026-11-30,a@b.com,lots"))
    with pytest.raises(UsageReportError, match="not UTF-8"):
        parse_mailboxes(b"\xff\xfe" + header.encode("utf-16-le"))
    assert parse_mailboxes(b"") == []


def test_periods_and_capabilities() -> None:
    assert parse_period("d30") is Period.D30
    assert parse_period("180").days == 180
    with pytest.raises(ValueError, match="D30, D90 or D180"):
        parse_period("D7")
    assert "desktop_apps" in capabilities(["OFFICESUBSCRIPTION", "MCOEV"])
    assert mailbox_fits(1024**3, 2 * 1024**3)
    assert not mailbox_fits(None, 2 * 1024**3)


def test_the_period_setting_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LICENSEWATCH_USAGE_PERIOD", "d180")
    assert load_settings().usage_period == "D180"
    monkeypatch.setenv("LICENSEWATCH_USAGE_PERIOD", "D7")
    with pytest.raises(ValidationError, match="D30, D90 or D180"):
        load_settings()


# Microsoft's documented download bodies, verbatim (header only, no byte order mark, no line end):
# https://learn.microsoft.com/graph/api/reportroot-getoffice365activeuserdetail?view=graph-rest-1.0#response
DOCUMENTED_ACTIVE_USERS = (
    "Report Refresh Date,User Principal Name,Display Name,Is Deleted,Deleted Date,"
    "Has Exchange License,Has OneDrive License,Has SharePoint License,"
    "Has Skype For Business License,Has Yammer License,Has Teams License,"
    "Exchange Last Activity Date,OneDrive Last Activity Date,SharePoint Last Activity Date,"
    "Skype For Business Last Activity Date,Yammer Last Activity Date,Teams Last Activity Date,"
    "Exchange License Assign Date,OneDrive License Assign Date,SharePoint License Assign Date,"
    "Skype For Business License Assign Date,Yammer License Assign Date,"
    "Teams License Assign Date,Assigned Products"
)
# https://learn.microsoft.com/graph/api/reportroot-getmailboxusagedetail?view=graph-rest-1.0#response
DOCUMENTED_MAILBOXES = (
    "Report Refresh Date,User Principal Name,Display Name,Is Deleted,Deleted Date,Created Date,"
    "Last Activity Date,Item Count,Storage Used (Byte),Issue Warning Quota (Byte),"
    "Prohibit Send Quota (Byte),Prohibit Send/Receive Quota (Byte),Deleted Item Count,"
    "Deleted Item Size (Byte),Report Period"
)


def test_microsofts_documented_bodies_parse_as_empty_reports() -> None:
    assert DOCUMENTED_ACTIVE_USERS == ACTIVE_HEADER  # our fixtures use the documented columns
    assert parse_active_users(DOCUMENTED_ACTIVE_USERS.encode()) == []
    assert parse_mailboxes(DOCUMENTED_MAILBOXES.encode()) == []


def test_a_mailbox_row_in_microsofts_documented_column_order() -> None:
    row = "2026-11-30,anna@contoso.com,Anna,False,,2020-01-01,2026-11-29,1200,2048,10,20,30,5,6,90"
    (mailbox,) = parse_mailboxes(f"{DOCUMENTED_MAILBOXES}\n{row}".encode())
    assert (mailbox.upn, mailbox.last_activity) == ("anna@contoso.com", date(2026, 11, 29))
    assert (mailbox.item_count, mailbox.storage_used) == (1200, 2048)
    assert mailbox.prohibit_send_receive_quota == 30  # not the send-only or warning quota
