"""The declared user stream: $select, row builders and exports derive from one declaration."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from licensewatch.storage.writers import USER_COLUMNS, _sqlite_datetime
from licensewatch.sync import collectors, row_builder, user_stream
from licensewatch.web import exports

TIMES: list[Any] = [
    "2021-03-04T17:12:25Z",
    "2024-01-02T03:04:05.1234567Z",
    "2021-03-04T17:12:25+02:00",
    "2021-03-04T17:12:25",
    "0001-01-01T00:00:00Z",
    "2021-13-04T17:12:25Z",  # no 13th month
    "2021-W47-1T14:55:17Z",  # an ISO week date of Graph's length: parsed, never re-cut
    "",
    None,
    17,
]


def _user(uid: str, when: Any = None, **more: Any) -> dict[str, Any]:
    return {"id": uid, "userPrincipalName": f"{uid}@x", "createdDateTime": when, **more}


def test_select_names_every_declared_property_once() -> None:
    plain = user_stream.select().split(",")
    assert len(plain) == len(set(plain))
    assert user_stream.SIGN_IN not in plain
    assert plain[0] == "id"
    assert {"employeeOrgData", "licenseAssignmentStates"} <= set(plain)
    signed = user_stream.select(with_sign_in=True).split(",")
    assert set(signed) - set(plain) == {user_stream.SIGN_IN}
    assert user_stream.select() == collectors.USER_FIELDS


def test_every_users_column_is_declared_in_the_table_order() -> None:
    declared = [field.column for field in user_stream.FIELDS]
    assert [c for c in USER_COLUMNS if c not in ("dataset_id", "tenant_id")] == declared


@pytest.mark.parametrize("when", TIMES)
def test_sqlite_encoding_stores_what_the_datetime_path_stored(when: Any) -> None:
    """The text cut from Graph's string equals the text the datetime would have become."""
    python: list[tuple[Any, ...]] = []
    sqlite: list[tuple[Any, ...]] = []
    users = [_user("u", when)]
    row_builder.builder_for(with_sign_in=False, encoding="python")(users, 1, 2, None, python, [])
    row_builder.builder_for(with_sign_in=False, encoding="sqlite")(users, 1, 2, None, sqlite, [])
    at = USER_COLUMNS.index("created_at")
    expected = python[0][at]
    assert sqlite[0][at] == (None if expected is None else _sqlite_datetime(expected))
    assert python[0][:at] == sqlite[0][:at]
    assert python[0][at + 1 :] == sqlite[0][at + 1 :]
    if when == "2021-03-04T17:12:25+02:00":
        assert expected == datetime(2021, 3, 4, 15, 12, 25, tzinfo=UTC)


def test_a_user_repeated_on_a_later_page_is_built_once_first_copy_wins() -> None:
    build = row_builder.builder_for(with_sign_in=False, encoding="python")
    seen: set[Any] = set()
    users: list[tuple[Any, ...]] = []
    licences: list[tuple[Any, ...]] = []
    guid = "6e1f0a52-9c1e-4f7e-8a40-0d2f8b1c3a77"
    states = [{"skuId": "s", "state": "Active", "error": "None", "disabledPlans": []}]
    first = [_user(guid, licenseAssignmentStates=states), _user("plain-id"), {"id": 7}, "junk"]
    assert build(first, 1, 2, seen, users, licences) == 2
    later = [{**_user(guid), "displayName": "renamed"}, _user("plain-id"), _user("new")]
    assert build(later, 1, 2, seen, users, licences) == 1
    assert [row[1] for row in users] == [guid, "plain-id", "new"]
    assert users[0][USER_COLUMNS.index("display_name")] is None  # the first copy's
    assert licences == [(1, guid, "s", None, "Active", None, "")]
    assert row_builder.compact_key(guid) in seen  # GUIDs kept as 128-bit ints


def test_builders_are_made_once_per_select_and_encoding() -> None:
    one = row_builder.builder_for(with_sign_in=True, encoding="sqlite")
    assert row_builder.builder_for(with_sign_in=True, encoding="sqlite") is one
    assert row_builder.builder_for(with_sign_in=False, encoding="sqlite") is not one


def test_a_property_not_selected_is_never_read() -> None:
    """Without signInActivity in $select, a stray one in the body is not stored."""
    user = _user("u", signInActivity={"lastSignInDateTime": "2021-03-04T17:12:25Z"})
    rows: list[tuple[Any, ...]] = []
    row_builder.builder_for(with_sign_in=False, encoding="python")([user], 1, 2, None, rows, [])
    assert rows[0][USER_COLUMNS.index("last_sign_in_at")] is None
    rows.clear()
    row_builder.builder_for(with_sign_in=True, encoding="python")([user], 1, 2, None, rows, [])
    assert rows[0][USER_COLUMNS.index("last_sign_in_at")] == datetime(
        2021, 3, 4, 17, 12, 25, tzinfo=UTC
    )


def test_user_export_columns_come_from_the_stream() -> None:
    own = exports.USER_COLUMNS[1 : 1 + len(user_stream.EXPORTED)]
    assert tuple(own) == user_stream.EXPORTED
    assert "department" in own
    assert "mail" not in own
