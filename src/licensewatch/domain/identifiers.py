"""Pure validation of what admins paste: GUIDs, tenants, client IDs, secret values, tenant names."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

# Characters that sneak in when copying from a portal, a chat or a PDF, and are invisible on screen.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
_GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_MULTI_TENANT_ALIASES = {"common", "organizations", "consumers"}
_NAME_PUNCTUATION = frozenset("-_. ")


class InvalidInput(ValueError):
    """Input an admin can fix; the message says how, in one line."""


def _clean(value: str) -> str:
    """Drops invisible characters and surrounding whitespace (incl. no-break spaces)."""
    return value.translate(_INVISIBLE).strip()


def _non_ascii_problem(what: str, value: str) -> str | None:
    for position, char in enumerate(value, start=1):
        if not char.isascii():
            name = unicodedata.name(char, "unnamed character")
            return (
                f"{what} contains the non-ASCII character U+{ord(char):04X} ({name}) at position "
                f"{position}; retype it or copy it again from the Entra admin center"
            )
    return None


def is_guid(value: str) -> bool:
    """True when the value (cleaned) is an 8-4-4-4-12 hexadecimal GUID, with or without braces."""
    text = _clean(value).lower()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    return _GUID.fullmatch(text) is not None


def parse_guid(value: str, what: str = "value") -> str:
    """A GUID in canonical lowercase form; InvalidInput otherwise."""
    text = _clean(value)
    if not text:
        raise InvalidInput(f"{what} is empty")
    problem = _non_ascii_problem(what, text)
    if problem:
        raise InvalidInput(problem)
    lowered = text.lower()
    if lowered.startswith("{") and lowered.endswith("}"):
        lowered = lowered[1:-1]
    if _GUID.fullmatch(lowered) is None:
        raise InvalidInput(
            f"{what} {text!r} is not a GUID (expected 8-4-4-4-12 hexadecimal digits, "
            "e.g. 00000000-0000-0000-0000-000000000000)"
        )
    return lowered


def is_domain(value: str) -> bool:
    """True for a DNS name with at least two labels (e.g. contoso.onmicrosoft.com)."""
    try:
        _parse_domain(_clean(value))
    except InvalidInput:
        return False
    return True


def _parse_domain(text: str) -> str:
    try:
        ascii_name = text.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise InvalidInput(f"{text!r} is not a valid DNS domain name") from None
    ascii_name = ascii_name.removesuffix(".")
    labels = ascii_name.split(".")
    if (
        len(ascii_name) > 253
        or len(labels) < 2
        or not all(_LABEL.fullmatch(label) for label in labels)
        or labels[-1].isdigit()
    ):
        raise InvalidInput(f"{text!r} is not a valid DNS domain name")
    return ascii_name


def parse_tenant(value: str) -> str:
    """The Directory (tenant) ID as a lowercase GUID, or a domain (contoso.onmicrosoft.com)."""
    text = _clean(value)
    if not text:
        raise InvalidInput(
            "tenant ID is empty: use the Directory (tenant) ID from the app's Overview page"
        )
    if text.lower() in _MULTI_TENANT_ALIASES:
        raise InvalidInput(
            f"tenant {text!r} is a multi-tenant alias; app-only sign-in needs your Directory "
            "(tenant) ID or a domain such as contoso.onmicrosoft.com"
        )
    if is_guid(text):
        return parse_guid(text, "tenant ID")
    if "://" in text or "/" in text:
        raise InvalidInput(
            f"tenant {text!r} looks like a URL; give only the Directory (tenant) ID or the domain"
        )
    try:
        return _parse_domain(text)
    except InvalidInput:
        # A pasted en dash or full-width digit is a likelier cause than an exotic domain.
        odd = [c for c in text if not c.isascii() and not unicodedata.category(c).startswith("L")]
        problem = _non_ascii_problem("tenant ID", text)
        if odd and problem:
            raise InvalidInput(problem) from None
        raise InvalidInput(
            f"tenant {text!r} is neither a GUID nor a domain: use the Directory (tenant) ID from "
            "the app's Overview page, or a domain such as contoso.onmicrosoft.com"
        ) from None


def parse_client_id(value: str) -> str:
    """The Application (client) ID: always a GUID, never the app's display name."""
    try:
        return parse_guid(value, "client ID")
    except InvalidInput as error:
        raise InvalidInput(
            f"{error}; use the Application (client) ID from the app registration's Overview page"
        ) from None


def check_secret_value(value: str) -> str:
    """The client secret *Value* without stdin's line ending; InvalidInput if it cannot be."""
    text = _clean(value)
    if not text:
        raise InvalidInput("the client secret is empty: pipe the secret's Value on stdin")
    if len(text) > 1024:  # Entra secret values are 40 characters: this is another file
        raise InvalidInput(f"the client secret is {len(text)} characters long: pipe only its Value")
    if is_guid(text):
        raise InvalidInput(
            "that looks like the secret's *Secret ID*; copy the *Value* column instead "
            "(it is shown only once, right after creation)"
        )
    if any(char.isspace() for char in text):
        raise InvalidInput(
            "the client secret contains whitespace: pipe only the secret's Value, on one line"
        )
    if any(not char.isascii() or not char.isprintable() for char in text):
        raise InvalidInput(
            "the client secret contains non-ASCII or control characters; Entra secret values "
            "are plain ASCII: copy the Value again"
        )
    return text


def parse_tenant_name(value: str) -> str:
    """A local display name: 1–64 letters (any script), digits, '-', '_', '.' or spaces."""
    text = unicodedata.normalize("NFC", _clean(value))
    if not text:
        raise InvalidInput("tenant name is empty")
    if len(text) > 64:
        raise InvalidInput(f"tenant name is {len(text)} characters long; the limit is 64")
    for char in text:
        category = unicodedata.category(char)
        if not (category.startswith("L") or category == "Nd" or char in _NAME_PUNCTUATION):
            shown = char if char.isprintable() else f"U+{ord(char):04X}"
            raise InvalidInput(
                f"tenant name {text!r} contains {shown!r}; "
                "use letters, digits, '-', '_', '.' or spaces"
            )
    return text


def parse_https_url(value: str, option: str = "URL") -> str:
    """An https:// base URL without trailing slash, query or fragment (custom endpoints)."""
    text = _clean(value).rstrip("/")
    try:
        parts = urlsplit(text)
        has_host = bool(parts.hostname)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise InvalidInput(f"{option} {value!r} is not a valid URL") from None
    if parts.scheme.lower() != "https" or not has_host:
        raise InvalidInput(f"{option} must be an https:// URL, got {value!r}")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise InvalidInput(f"{option} must not carry credentials, a query or a fragment: {value!r}")
    return text
