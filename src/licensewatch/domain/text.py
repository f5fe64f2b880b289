"""Tenant text made safe to store and show: no NUL, control characters or bidi overrides."""

from __future__ import annotations

import re

# Anyone in a tenant sets their own department or display name, so text from Graph is
# attacker-controlled. Line breaks and tabs become one space (a name is one line: an e-mail
# subject, a CSV cell, a table row); NUL, the other C0 controls (ESC starts terminal escape
# sequences), DEL and the C1 controls are removed; so are the bidi embeddings, overrides and
# isolates (U+202A-U+202E, U+2066-U+2069) that make text read differently from what it is
# (CVE-2021-42574, "Trojan Source"). The marks U+200E/U+200F stay: they cannot reorder text.
_BREAKS = re.compile("[\t\n\v\f\r\x1c-\x1f\x85\u2028\u2029]+")
_REMOVED = re.compile("[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\u202a-\u202e\u2066-\u2069]+")
# Lone surrogates cannot be encoded as UTF-8 (PostgreSQL and every file writer refuse them).
_SURROGATES = re.compile("[\ud800-\udfff]")
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def clean_text(value: str) -> str:
    """`value` without control characters or bidi controls (line breaks and tabs → one space)."""
    if value.isprintable():  # nearly every string: one C-level scan, no copy
        return value
    value = _BREAKS.sub(" ", value)
    value = _REMOVED.sub("", value)
    return _SURROGATES.sub("\ufffd", value)


def clean_optional(value: object) -> str | None:
    """A cleaned string, or None for anything that is not a string."""
    return clean_text(value) if isinstance(value, str) else None


def is_clean(value: str) -> bool:
    """True when `clean_text` would leave `value` unchanged."""
    return clean_text(value) == value
