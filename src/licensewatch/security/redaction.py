"""A logging filter masking secrets, bearer tokens, JWTs, private keys and credential fields."""

from __future__ import annotations

import logging
import re
import threading
from urllib.parse import urlsplit

MASK = "***"
_MIN_KNOWN_SECRET = 6  # shorter values would mask ordinary words

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(
            r"-----BEGIN ([A-Z ]*)PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)",
            re.DOTALL,
        ),
        r"-----BEGIN \1PRIVATE KEY-----" + MASK + r"-----END \1PRIVATE KEY-----",
    ),
    (re.compile(r"(?i)\b(bearer)(\s+)[A-Za-z0-9\-._~+/]+=*"), r"\1\2" + MASK),
    (re.compile(r"\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), MASK),
    (re.compile(r"\bgAAAAA[A-Za-z0-9_=-]{20,}"), MASK),  # Fernet tokens (our ciphertext)
    (
        re.compile(
            r"(?i)(\b(?:client_secret|client_assertion|access_token|refresh_token|id_token|password"
            r"|secret_key|private_key|secret)\b[\"']?\s*[=:]\s*[\"']?)([^&\s\"',;}]+)"
        ),
        r"\1" + MASK,
    ),
    (
        re.compile(r"(?i)(\bauthorization\b[\"']?\s*[=:]\s*[\"']?)([^\"'\r\n,;}]+)"),
        r"\1" + MASK,
    ),
)

_known_lock = threading.Lock()
_known_secrets: set[str] = set()


def register_secret(value: str) -> None:
    """Masks this exact value wherever it appears later (e.g. a decrypted client secret)."""
    if len(value) >= _MIN_KNOWN_SECRET:
        with _known_lock:
            _known_secrets.add(value)


def redact(text: str) -> str:
    """The text with every known secret and secret-shaped value replaced by ***."""
    with _known_lock:
        known = sorted(_known_secrets, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, MASK)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact_url(url: str) -> str:
    """`scheme://host/…`: what may be shown of a URL whose user, path or query may be secret.

    Webhook URLs often *are* the credential (Slack, Teams, Azure Functions `?code=`, SAS `sig=`).
    """
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
    except ValueError:
        return MASK
    if not parts.scheme or not host:
        return MASK
    return f"{parts.scheme}://{f'[{host}]' if ':' in host else host}/…"


class RedactionFilter(logging.Filter):
    """Rewrites each record's message (args merged in) and exception text; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = f"{record.msg!s} {record.args!r}"
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def install(handler: logging.Handler) -> None:
    """Adds the filter to a handler (a handler filter sees records from every logger)."""
    if not any(isinstance(existing, RedactionFilter) for existing in handler.filters):
        handler.addFilter(RedactionFilter())
