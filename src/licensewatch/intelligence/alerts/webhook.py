"""Webhook delivery: a JSON POST signed with HMAC-SHA256 of the body (X-Licensewatch-Signature)."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import httpx
import orjson

SIGNATURE_HEADER = "X-Licensewatch-Signature"
TIMEOUT_SECONDS = 10.0


class DeliveryError(Exception):
    """A notification could not be delivered; the message says why (never a secret)."""


def signature(secret: bytes, body: bytes) -> str:
    """`sha256=<hex>`: what receivers recompute with their copy of the secret."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def post_json(
    url: str, payload: dict[str, Any], secret: bytes | None, ca_bundle: str | None
) -> None:
    """POST the payload; any non-2xx answer or network error raises DeliveryError."""
    body = orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)
    headers = {"Content-Type": "application/json", "User-Agent": "licensewatch"}
    if secret:
        headers[SIGNATURE_HEADER] = signature(secret, body)
    verify: str | bool = ca_bundle or True
    try:
        response = httpx.post(
            url, content=body, headers=headers, timeout=TIMEOUT_SECONDS, verify=verify
        )
    except httpx.HTTPError as exc:
        raise DeliveryError(f"webhook {url} unreachable: {exc}") from None
    if not 200 <= response.status_code < 300:
        raise DeliveryError(f"webhook {url} answered HTTP {response.status_code}")
