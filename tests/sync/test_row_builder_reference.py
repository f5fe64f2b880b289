"""The compiled row builders equal a plain reference builder on generated Graph user JSON."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from licensewatch.domain.text import clean_text
from licensewatch.sync import row_builder, user_stream
from licensewatch.sync.row_builder import Encoding

_GUID = re.compile(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")
_NO_ERROR = {"None", "none", ""}


def _time(value: Any, encoding: Encoding) -> Any:
    """ISO 8601 text → a UTC instant; None when absent, unparsable, year 1 or out of range."""
    if type(value) is not str:
        return None
    try:
        parsed = datetime.fromisoformat(value)
        if parsed.year <= 1:
            return None
        aware = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        return None
    if encoding == "python":
        return aware
    return aware.replace(tzinfo=None).isoformat(" ", "microseconds")


def _text(value: Any, limit: int) -> Any:
    return clean_text(value)[:limit] if type(value) is str else None


def _joined(value: Any) -> str | None:
    if type(value) is not list:
        return None
    return ",".join(str(item) for item in value if item is not None)


def _licences(dataset: int, uid: str, user: dict[str, Any]) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = []
    states = user.get("licenseAssignmentStates")
    if type(states) is list:
        for state in states:
            sku = state.get("skuId") if type(state) is dict else None
            if type(sku) is not str or not sku:
                continue
            group, status, error = (state.get(k) for k in ("assignedByGroup", "state", "error"))
            error = clean_text(error) if type(error) is str else None
            rows.append(
                (
                    *(dataset, uid, sku),
                    group if type(group) is str and group else None,
                    status if type(status) is str else None,
                    None if error in _NO_ERROR else error,
                    _joined(state.get("disabledPlans")),
                )
            )
        return rows
    assigned = user.get("assignedLicenses")
    for licence in assigned if type(assigned) is list else []:
        sku = licence.get("skuId") if type(licence) is dict else None
        sku = clean_text(sku) if type(sku) is str else None
        if sku:
            plans = _joined(licence.get("disabledPlans"))
            rows.append((dataset, uid, sku, None, "Active", None, plans))
    return rows


def reference(
    items: list[Any], properties: frozenset[str], encoding: Encoding, seen: set[str] | None
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """What the builder must produce, written field by field from the declared stream."""
    users: list[tuple[Any, ...]] = []
    licences: list[tuple[Any, ...]] = []
    for user in items:
        uid = user.get("id") if type(user) is dict else None
        if type(uid) is not str:
            continue
        if seen is not None:
            key = uid.lower() if _GUID.fullmatch(uid) else uid  # a GUID in any case is one user
            if key in seen:
                continue
            seen.add(key)
        values: list[Any] = []
        for field in user_stream.FIELDS[1:]:
            parent, _, child = field.path.partition(".")
            value = user.get(parent) if parent in properties else None
            if child:
                value = value.get(child) if type(value) is dict else None
            if field.kind == "text":
                values.append(_text(value, field.limit))
            elif field.kind == "flag":
                values.append(value if type(value) is bool else None)
            else:
                values.append(_time(value, encoding))
        users.append((7, uid, 3, *values))
        licences.extend(_licences(7, uid, user))
    return users, licences


_ODD = st.sampled_from(
    [
        *("2021-03-04T17:12:25Z", "0001-01-01T00:00:00Z", "2021-02-30T10:00:00Z", ""),
        *("2024-01-02T03:04:05.1234567Z", "2021-03-04T17:12:25+02:00", "2021-03-04T17:12:25"),
        *("9999-12-31T23:30:00-05:00", "2021-W47-1T14:55:17Z", "2021-03-04 17:12:25Z"),
        *("0001-01-01T00:30:00+01:00", "2021-03-04T25:12:25Z", "2021/03/04T17:12:25Z"),
    ]
)
# Naive bounds: hypothesis draws naive datetimes, written as Graph's "...Z" text.
_EARLIEST, _LATEST = datetime(1, 1, 2), datetime(9999, 12, 30)  # noqa: DTZ001
_DATES = st.datetimes(min_value=_EARLIEST, max_value=_LATEST).map(
    lambda moment: moment.isoformat(timespec="seconds") + "Z"
)
_TIMES = st.one_of(st.none(), _ODD, _DATES, st.integers(), st.text(max_size=22))
_TEXTS = st.one_of(
    st.none(),
    st.sampled_from(["", "Sales", "a\u202eb", "line\nbreak", "x" * 450, "é" * 30]),
    st.text(max_size=40),
    st.integers(),
    st.booleans(),
)
_FLAGS = st.one_of(st.none(), st.booleans(), st.integers(0, 1), st.sampled_from(["true"]))
_PLANS = st.one_of(st.none(), st.lists(st.one_of(st.none(), st.uuids().map(str)), max_size=3))
_SKUS = st.one_of(st.none(), st.sampled_from(["", "sku-a", "sku\x00b"]), st.uuids().map(str))
_STATES = st.lists(
    st.one_of(
        st.fixed_dictionaries(
            {"skuId": _SKUS},
            optional={
                "assignedByGroup": st.one_of(st.none(), st.just(""), st.uuids().map(str)),
                "state": st.one_of(st.none(), st.sampled_from(["Active", "Error"]), st.integers()),
                "error": st.one_of(
                    st.none(), st.sampled_from(["None", "none", "", "CountViolation", "\x07"])
                ),
                "disabledPlans": _PLANS,
            },
        ),
        st.none(),
        st.integers(),
    ),
    max_size=3,
)
_ASSIGNED = st.lists(
    st.one_of(
        st.fixed_dictionaries({"skuId": _SKUS}, optional={"disabledPlans": _PLANS}), st.none()
    ),
    max_size=3,
)
_IDS = st.one_of(
    st.sampled_from(
        ["6e1f0a52-9c1e-4f7e-8a40-0d2f8b1c3a77", "6E1F0A52-9C1E-4F7E-8A40-0D2F8B1C3A77"]
    ),
    st.uuids().map(str),
    st.sampled_from(["plain-id", "x" * 36]),
    st.none(),
    st.integers(),
)
_OPTIONAL: dict[str, Any] = {
    field.graph_property: {"time": _TIMES, "flag": _FLAGS}.get(field.kind, _TEXTS)
    for field in user_stream.FIELDS[1:]
    if "." not in field.path
}
_OPTIONAL |= {
    "employeeOrgData": st.one_of(
        st.none(), st.integers(), st.fixed_dictionaries({}, optional={"costCenter": _TEXTS})
    ),
    user_stream.SIGN_IN: st.one_of(
        st.none(),
        st.fixed_dictionaries(
            {},
            optional={
                "lastSignInDateTime": _TIMES,
                "lastNonInteractiveSignInDateTime": _TIMES,
                "lastSuccessfulSignInDateTime": _TIMES,
            },
        ),
    ),
    "licenseAssignmentStates": st.one_of(st.none(), _STATES),
    "assignedLicenses": st.one_of(st.none(), _ASSIGNED),
}
USERS = st.one_of(
    st.fixed_dictionaries({"id": _IDS}, optional=_OPTIONAL), st.none(), st.text(max_size=3)
)


@given(
    st.lists(st.lists(USERS, max_size=6), min_size=1, max_size=3),
    st.booleans(),
    st.sampled_from(["python", "sqlite"]),
    st.booleans(),
)
@settings(max_examples=400, deadline=None)
def test_the_compiled_builder_equals_the_reference(
    pages: list[list[Any]], with_sign_in: bool, encoding: Encoding, deduplicate: bool
) -> None:
    """Nulls, missing keys, wrong types, odd dates, repeats across pages: the same rows."""
    properties = frozenset(user_stream.properties(with_sign_in=with_sign_in))
    build = row_builder.builder_for(with_sign_in=with_sign_in, encoding=encoding)
    seen: set[Any] | None = set() if deduplicate else None
    expected_seen: set[str] | None = set() if deduplicate else None
    for items in pages:
        users: list[tuple[Any, ...]] = []
        licences: list[tuple[Any, ...]] = []
        taken = build(items, 7, 3, seen, users, licences)
        assert (users, licences) == reference(items, properties, encoding, expected_seen)
        assert taken == len(users)


def test_a_timestamp_past_year_9999_in_utc_is_no_date() -> None:
    """Found by the test above: converting it to UTC overflowed, which failed the whole sync."""
    assert row_builder.timestamp("9999-12-31T23:30:00-05:00") is None
    assert row_builder.sqlite_time("9999-12-31T23:30:00-05:00") is None
