"""The redaction filter masks secrets in every part of a log record."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from licensewatch.security.redaction import MASK, RedactionFilter, install, redact, register_secret

JWT = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL2dyYXBoIn0.c2lnbmF0dXJl"


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    install(handler)
    install(handler)  # idempotent
    assert sum(isinstance(f, RedactionFilter) for f in handler.filters) == 1
    logger = logging.getLogger("licensewatch.test.redaction")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        yield logger, stream
    finally:
        logger.removeHandler(handler)


@pytest.mark.parametrize(
    ("text", "leak"),
    [
        ("Authorization: Bearer abc.def-ghi", "abc.def-ghi"),
        ("header authorization=Basic dXNlcjpwYXNz", "dXNlcjpwYXNz"),
        (f"token {JWT} used", JWT),
        ("body client_secret=abC8Q~sEcReT&scope=x", "abC8Q~sEcReT"),
        ("client_assertion=xyz123.abc&grant_type=client_credentials", "xyz123.abc"),
        ('{"client_secret": "abC8Q~value"}', "abC8Q~value"),
        ('{"access_token":"opaque-token-value"}', "opaque-token-value"),
        (
            "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----",
            "MIIEvQIBADANBg",
        ),
        ("stored gAAAAABnAbCdEfGhIjKlMnOpQrStUvWxYz0123456789", "gAAAAABnAbCdEfGhIjKl"),
    ],
)
def test_patterns(text: str, leak: str) -> None:
    result = redact(text)
    assert leak not in result
    assert MASK in result


def test_ordinary_text_is_untouched() -> None:
    text = "synced 2000 users of tenant contoso (request-id 1234) in 3.2 s"
    assert redact(text) == text


def test_args_exceptions_and_known_secrets(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    register_secret("plain-looking-secret-42")
    logger.info("sending %s with %s", "client_secret=abC8Q~zzz", {"password": "hunter22"})
    logger.info("the value is plain-looking-secret-42, see")
    try:
        raise RuntimeError(f"failed with Bearer {JWT}")
    except RuntimeError:
        logger.exception("boom")
    output = stream.getvalue()
    for leak in ("abC8Q~zzz", "hunter22", "plain-looking-secret-42", JWT):
        assert leak not in output
    assert "sending client_secret=***" in output
    assert "RuntimeError" in output


def test_short_known_values_are_not_registered() -> None:
    register_secret("abc")
    assert redact("abc") == "abc"
