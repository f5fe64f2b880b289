"""Row builders compiled from the declared user stream: a Graph page → user and licence tuples.

The hot path of a sync, so no object per user: one generated loop per (`$select`, encoding) walks
the page's orjson dicts, reads each declared property once, type-checks it inline and appends a
tuple in `USER_COLUMNS` order (a function call per field cost as much as the rest of the row).
Encodings say how a timestamp leaves the builder, so that it is parsed once and never
formatted: "python" (an aware UTC datetime: PostgreSQL's binary COPY, delta runs) or "sqlite"
(the naive UTC text SQLite stores, cut straight from Graph's validated text). Both store the
same instant.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from typing import Any, Literal

from licensewatch.domain.text import clean_text
from licensewatch.sync import user_stream
from licensewatch.sync.user_stream import FIELDS

Encoding = Literal["python", "sqlite"]
Rows = list[tuple[Any, ...]]
# build(items, dataset, tenant, seen, users, licences) -> users appended; `seen` (a set of
# compact ids, or None) skips a user repeated anywhere in the run, as sync/seen.py keys them.
PageBuilder = Callable[[list[Any], int, int, "set[Any] | None", Rows, Rows], int]

# Graph writes the string "None" where the docs promise null.
NO_ERROR = frozenset({"None", "none", ""})
# Sentinel dates ("0001-01-01T00:00:00Z", DateTimeOffset.MinValue) mean "never".
_NEVER_YEAR = 1
_fromisoformat = datetime.fromisoformat


def timestamp(value: Any) -> datetime | None:
    """An aware UTC datetime from Graph's ISO 8601 text; None when absent, unparsable or "never".

    Microsoft writes "never" as "" or as DateTimeOffset.MinValue ("0001-01-01T00:00:00Z", e.g. in
    signInActivity of a user who never signed in): both are None, never a date in year 1.
    """
    if value.__class__ is not str or not value:
        return None
    try:
        parsed = _fromisoformat(value)
    except ValueError:
        return None
    if parsed.year <= _NEVER_YEAR:
        return None
    if parsed.tzinfo is UTC:  # Graph's usual "...Z"
        return parsed
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # "9999-12-31T23:00:00-05:00" is past year 9999 in UTC: no date
        return None


def sqlite_time(value: Any) -> str | None:
    """What SQLite stores for a Graph timestamp: naive UTC text with microseconds, or None.

    Graph's usual "2021-03-04T17:12:25Z" is validated by the C parser and re-cut, not formatted;
    any other form goes through `timestamp` (the same instant, the same text).
    """
    if (
        value.__class__ is str
        and len(value) == 20
        and value[10] == "T"
        and value[19] == "Z"
        # exactly Graph's usual form, checked inline: a helper call per timestamp cost as much
        and value[4] == value[7] == "-"
        and value[13] == value[16] == ":"
    ):
        try:
            _fromisoformat(value)
        except ValueError:
            return None
        if value[:4] == "0001":
            return None
        return f"{value[:10]} {value[11:19]}.000000"
    parsed = timestamp(value)
    return None if parsed is None else parsed.replace(tzinfo=None).isoformat(" ", "microseconds")


_TIME = {"python": timestamp, "sqlite": sqlite_time}


def clip(value: Any, limit: int) -> str | None:
    """A text column's value: None unless a string; cleaned of control and bidi characters
    (`domain.text`) and clipped to the column's length (employees set their own department)."""
    if value.__class__ is not str:
        return None
    if value.isprintable() and len(value) <= limit:
        return value
    return clean_text(value)[:limit]


def joined(value: Any) -> str | None:
    """A list of plan ids comma-joined ("" for an empty list, None when absent)."""
    if not isinstance(value, list):
        return None
    return ",".join(str(item) for item in value if item is not None)


def license_error(value: Any) -> str | None:
    if value.__class__ is not str or value in NO_ERROR:
        return None
    error = clean_text(value)
    return None if error in NO_ERROR else error


def assigned_licence_rows(dataset_id: int, user_id: str, assigned: Any, rows: Rows) -> None:
    """Rows from assignedLicenses when licenseAssignmentStates is missing: direct, active."""
    if not isinstance(assigned, list):
        return
    for licence in assigned:
        if licence.__class__ is not dict:
            continue
        sku_id = licence.get("skuId")
        sku_id = clean_text(sku_id) if sku_id.__class__ is str else None
        if sku_id:
            plans = joined(licence.get("disabledPlans"))
            rows.append((dataset_id, user_id, sku_id, None, "Active", None, plans))


def compact_key(uid: str) -> int | str:
    """The 128-bit int of a GUID id (half the memory of the string), else the id itself."""
    if len(uid) == 36 and uid[8] == uid[13] == uid[18] == uid[23] == "-":
        try:
            return int(uid.replace("-", ""), 16)
        except ValueError:
            return uid
    return uid


# The licence part of a user, the same for every builder: licenseAssignmentStates tells direct
# from group-inherited; without it, assignedLicenses are taken as direct, active assignments.
_LICENCES = """
        states = user.get("licenseAssignmentStates")
        if states.__class__ is list:
            for state in states:
                if state.__class__ is not dict:
                    continue
                sku = state.get("skuId")
                if sku and sku.__class__ is str:
                    group = state.get("assignedByGroup")
                    status = state.get("state")
                    error = state.get("error")
                    plans = state.get("disabledPlans")
                    licences_append((
                        dataset, uid, sku,
                        group if group and group.__class__ is str else None,
                        status if status.__class__ is str else None,
                        None if error.__class__ is not str or error in NO_ERROR
                        else license_error(error),
                        "" if plans == [] else joined(plans),
                    ))
        else:
            assigned_licence_rows(dataset, uid, user.get("assignedLicenses"), licences)
"""


# SQLite's text for Graph's usual "YYYY-MM-DDTHH:MM:SSZ", inline (what `sqlite_time` does): the
# C parser validates, the text is re-cut; a call per timestamp cost as much as the work.
_SQLITE_TIME = """if _T_.__class__ is str and len(_T_) == 20 and _T_[10] == "T" \\
        and _T_[19] == "Z" and _T_[4] == _T_[7] == "-" and _T_[13] == _T_[16] == ":":
    try:
        fromisoformat(_T_)
        _T_ = None if _T_[:4] == "0001" else f"{_T_[:10]} {_T_[11:19]}.000000"
    except ValueError:
        _T_ = None
elif _T_ is not None:
    _T_ = time(_T_)"""


def _value(index: int, field: user_stream.Field, encoding: Encoding) -> str:
    """The expression of one column, from the local `v<index>` holding Graph's value."""
    name = f"v{index}"
    if field.kind == "text":
        return (
            f"({name} if {name}.__class__ is str and {name}.isprintable() and "
            f"len({name}) <= {field.limit} else clip({name}, {field.limit}))"
        )
    if field.kind == "flag":
        return f"({name} if {name}.__class__ is bool else None)"
    if encoding == "sqlite":  # converted in place by `_SQLITE_TIME`
        return name
    return f"(None if {name} is None else time({name}))"


@cache
def page_builder(properties: frozenset[str], encoding: Encoding) -> PageBuilder:
    """The compiled builder for users read with these `$select` properties, in this encoding.

    Made once per (`$select`, encoding) and kept: a property not selected is a constant None.
    """
    reads: list[str] = []
    values: list[str] = []
    parents: dict[str, str] = {}
    for index, field in enumerate(FIELDS[1:], start=1):
        parent, _, child = field.path.partition(".")
        if parent not in properties:
            values.append("None")
            continue
        if child:
            if parent not in parents:
                parents[parent] = f"p{len(parents)}"
                reads.append(f"{parents[parent]} = user.get({parent!r})")
                reads.append(
                    f"{parents[parent]} = {parents[parent]} "
                    f"if {parents[parent]}.__class__ is dict else EMPTY"
                )
            reads.append(f"v{index} = {parents[parent]}.get({child!r})")
        else:
            reads.append(f"v{index} = user.get({parent!r})")
        if field.kind == "time" and encoding == "sqlite":
            reads.extend(_SQLITE_TIME.replace("_T_", f"v{index}").splitlines())
        values.append(_value(index, field, encoding))
    body = "\n        ".join(reads)
    row = ",\n            ".join(["dataset", "uid", "tenant", *values])
    source = f"""
def build(items, dataset, tenant, seen, users, licences):
    users_append, licences_append = users.append, licences.append
    seen_add = seen.add if seen is not None else None
    taken = 0
    for user in items:
        if user.__class__ is not dict:
            continue
        uid = user.get("id")
        if uid.__class__ is not str:
            continue
        if seen is not None:  # `compact_key`, inline
            key = uid
            if len(uid) == 36 and uid[8] == uid[13] == uid[18] == uid[23] == "-":
                try:
                    key = int(uid.replace("-", ""), 16)
                except ValueError:
                    pass
            if key in seen:
                continue
            seen_add(key)
        {body}
        users_append((
            {row},
        ))
        taken += 1
{_LICENCES}
    return taken
"""
    namespace: dict[str, Any] = {
        "clip": clip,
        "time": _TIME[encoding],
        "fromisoformat": _fromisoformat,
        "NO_ERROR": NO_ERROR,
        "license_error": license_error,
        "joined": joined,
        "assigned_licence_rows": assigned_licence_rows,
        "EMPTY": {},
    }
    # The source is built from the declaration above, never from data: nothing Graph sends
    # reaches it. A generated loop is the only way to inline every field's check.
    exec(compile(source, f"<user rows {sorted(properties)} {encoding}>", "exec"), namespace)  # noqa: S102
    builder: PageBuilder = namespace["build"]
    return builder


def builder_for(*, with_sign_in: bool, encoding: Encoding) -> PageBuilder:
    """The builder of a /users read with (or without) signInActivity."""
    return page_builder(frozenset(user_stream.properties(with_sign_in=with_sign_in)), encoding)


# Every property: what `collectors.user_row` reads whatever the `$select` was.
ALL_PROPERTIES = frozenset(user_stream.properties(with_sign_in=True))
