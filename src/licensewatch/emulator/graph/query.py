"""OData query options of directory collections: $select, $top, $count and a $filter subset."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from licensewatch.emulator.graph.errors import GraphError, bad_request, unsupported_query

Predicate = Callable[[Any], bool]
GUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_COMPARE = re.compile(r"^([A-Za-z]+)\s+(eq|ne|ge|le)\s+(.+)$", re.IGNORECASE | re.DOTALL)
_STARTSWITH = re.compile(r"^startswith\(\s*([A-Za-z]+)\s*,\s*(.+)\)$", re.IGNORECASE | re.DOTALL)
_ANY = re.compile(
    rf"^([A-Za-z]+)/any\(\s*(\w+)\s*:\s*(\w+)/skuId\s+eq\s+'?({GUID})'?\s*\)$", re.IGNORECASE
)
_COUNT = re.compile(r"^([A-Za-z]+)/\$count\s+(eq|ne)\s+0$", re.IGNORECASE)
_AND = re.compile(r"\s+and\s+", re.IGNORECASE)
_IN = re.compile(r"^([A-Za-z]+)\s+in\s+\((.*)\)$", re.IGNORECASE | re.DOTALL)
MAX_IN_VALUES = 15  # Graph refuses longer `in` lists on directory objects


@dataclass(frozen=True, slots=True)
class FilterProp:
    """How a property may be filtered: `kind` is str, bool or licenses; advanced ops apart."""

    getter: Callable[[Any], Any]
    kind: str
    default_ops: frozenset[str]
    advanced_ops: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class EntitySpec:
    type_name: str  # microsoft.graph.<type_name>
    properties: tuple[str, ...]
    defaults: tuple[str, ...]
    filters: Mapping[str, FilterProp] = field(default_factory=dict)

    def canonical(self, name: str) -> str:
        lowered = name.strip().lower()
        for prop in self.properties:
            if prop.lower() == lowered:
                return prop
        raise bad_request(
            f"Could not find a property named '{name.strip()}' on type "
            f"'microsoft.graph.{self.type_name}'.",
            "BadRequest",
        )


@dataclass(frozen=True, slots=True)
class Query:
    select: tuple[str, ...]
    explicit_select: bool
    top: int
    count: bool  # $count=true honoured (the ConsistencyLevel header was sent)
    predicate: Predicate | None
    filter_text: str
    eventual: bool

    def fingerprint_parts(self) -> tuple[str, ...]:
        return (",".join(self.select), str(self.top), self.filter_text)


def parse_select(raw: str | None, spec: EntitySpec) -> tuple[tuple[str, ...], bool]:
    if raw is None or not raw.strip():
        return spec.defaults, False
    chosen = dict.fromkeys(spec.canonical(part) for part in raw.split(",") if part.strip())
    return tuple(chosen), True


def parse_top(raw: str | None, default: int, maximum: int) -> int:
    if raw is None:
        return default
    try:
        top = int(raw.strip())
    except ValueError:
        top = -1
    if not 1 <= top <= maximum:
        raise unsupported_query(
            f"Invalid page size specified: '{raw}'. Must be between 1 and {maximum} inclusive."
        )
    return top


def parse_count(raw: str | None) -> bool:
    if raw is None:
        return False
    if raw.strip().lower() not in {"true", "false"}:
        raise bad_request(f"Invalid value '{raw}' for $count query option found.", "BadRequest")
    return raw.strip().lower() == "true"


def is_eventual(headers: Mapping[str, str]) -> bool:
    return headers.get("consistencylevel", "").strip().lower() == "eventual"


def parse_query(
    params: Mapping[str, str],
    headers: Mapping[str, str],
    spec: EntitySpec,
    *,
    max_top: int = 999,
    default_top: int = 100,
) -> Query:
    """Validate a collection request's query options (raises GraphError with Graph's answers)."""
    for unsupported in ("$skip", "$orderby", "$expand", "$search"):
        if unsupported in params:
            raise _unsupported_option(unsupported, headers)
    select, explicit = parse_select(params.get("$select"), spec)
    top = parse_top(params.get("$top"), default_top, max_top)
    eventual = is_eventual(headers)
    count_asked = parse_count(params.get("$count"))
    text = params.get("$filter", "").strip()
    predicate, advanced = parse_filter(text, spec) if text else (None, False)
    if advanced and not (eventual and count_asked):
        raise unsupported_query()
    return Query(select, explicit, top, count_asked and eventual, predicate, text, eventual)


def _unsupported_option(name: str, headers: Mapping[str, str]) -> GraphError:
    if name == "$search" and not is_eventual(headers):
        return unsupported_query(
            "Request with $search query parameter only works through MSGraph with a special "
            "request header: 'ConsistencyLevel: eventual'"
        )
    if name == "$orderby":
        return unsupported_query("Sorting not supported for current query.")
    option = name[1:].capitalize()
    return bad_request(
        f"The query specified in the URI is not valid. Query option '{option}' is not allowed.",
        "BadRequest",
    )


def split_and(text: str) -> list[str]:
    """Split on ` and ` outside string literals ('' escapes a quote inside one)."""
    parts: list[str] = []
    start, quoted, i = 0, False, 0
    while i < len(text):
        if text[i] == "'":
            quoted = not quoted
        elif not quoted:
            match = _AND.match(text, i)
            if match and i > start:
                parts.append(text[start:i].strip())
                start = i = match.end()
                continue
        i += 1
    parts.append(text[start:].strip())
    return parts


def parse_filter(text: str, spec: EntitySpec) -> tuple[Predicate, bool]:
    """A predicate for a conjunction of clauses, and whether it needs an advanced query."""
    predicates: list[Predicate] = []
    advanced = False
    for clause in split_and(text):
        predicate, needs_advanced = _clause(clause, spec)
        predicates.append(predicate)
        advanced = advanced or needs_advanced
    if len(predicates) == 1:
        return predicates[0], advanced
    return (lambda obj: all(p(obj) for p in predicates)), advanced


def _prop(name: str, spec: EntitySpec, op: str, kind: str) -> tuple[FilterProp, bool]:
    canonical = spec.canonical(name)
    prop = spec.filters.get(canonical)
    if prop is None or prop.kind != kind or op not in prop.default_ops | prop.advanced_ops:
        raise unsupported_query()
    return prop, op not in prop.default_ops


def _literal(raw: str) -> str:
    raw = raw.strip()
    if len(raw) < 2 or raw[0] != "'" or raw[-1] != "'" or "'" in raw[1:-1].replace("''", ""):
        raise bad_request(f"Invalid filter clause: syntax error near '{raw}'.", "BadRequest")
    return raw[1:-1].replace("''", "'")


def _clause(clause: str, spec: EntitySpec) -> tuple[Predicate, bool]:
    if match := _ANY.match(clause):
        if match.group(2).lower() != match.group(3).lower():
            raise unsupported_query()
        prop, advanced = _prop(match.group(1), spec, "any", "licenses")
        sku, get = match.group(4).lower(), prop.getter
        return (lambda obj: sku in get(obj)), advanced
    if match := _COUNT.match(clause):
        op = match.group(2).lower()
        prop, advanced = _prop(match.group(1), spec, f"count_{op}", "licenses")
        get = prop.getter
        if op == "eq":
            return (lambda obj: not get(obj)), advanced
        return (lambda obj: bool(get(obj))), advanced
    if match := _IN.match(clause):
        prop, advanced = _prop(match.group(1), spec, "in", "str")
        values = [_literal(raw) for raw in match.group(2).split(",") if raw.strip()]
        if not values or len(values) > MAX_IN_VALUES:
            raise bad_request(
                f"Too many values in the 'in' operator (at most {MAX_IN_VALUES}).", "BadRequest"
            )
        wanted, get = {v.casefold() for v in values}, prop.getter
        return (lambda obj: (get(obj) or "").casefold() in wanted), advanced
    if match := _STARTSWITH.match(clause):
        prop, advanced = _prop(match.group(1), spec, "startswith", "str")
        prefix, get = _literal(match.group(2)).casefold(), prop.getter
        return (lambda obj: (get(obj) or "").casefold().startswith(prefix)), advanced
    if match := _COMPARE.match(clause):
        name, op, raw = match.group(1), match.group(2).lower(), match.group(3).strip()
        if raw.lower() in {"true", "false"}:
            prop, advanced = _prop(name, spec, op, "bool")
            return _bool_predicate(prop.getter, op, raw.lower() == "true"), advanced
        prop, advanced = _prop(name, spec, op, "str")
        return _str_predicate(prop.getter, op, _literal(raw).casefold()), advanced
    raise bad_request(f"Invalid filter clause: syntax error near '{clause}'.", "BadRequest")


def _bool_predicate(get: Callable[[Any], Any], op: str, value: bool) -> Predicate:
    if op == "eq":
        return lambda obj: get(obj) is value
    if op == "ne":
        return lambda obj: get(obj) is not value
    raise unsupported_query()


def _str_predicate(get: Callable[[Any], Any], op: str, value: str) -> Predicate:
    # Graph compares strings case-insensitively; casefold keeps ge/le shards and eq aligned.
    def folded(obj: Any) -> str | None:
        raw = get(obj)
        return raw.casefold() if raw is not None else None

    if op == "eq":
        return lambda obj: folded(obj) == value
    if op == "ne":
        return lambda obj: folded(obj) != value
    if op == "ge":
        return lambda obj: (v := folded(obj)) is not None and v >= value
    return lambda obj: (v := folded(obj)) is not None and v <= value
