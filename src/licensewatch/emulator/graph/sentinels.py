"""signInActivity as real tenants serve "never": DateTimeOffset.MinValue or "", never null."""

from __future__ import annotations

from typing import Any

# What real tenants send for "never" (seen on lastNonInteractiveSignInDateTime of users who never
# signed in): DateTimeOffset.MinValue, or an empty string.
NEVER_DATE = "0001-01-01T00:00:00Z"
_NEVER = {
    "lastSignInDateTime": "",
    "lastSignInRequestId": "",
    "lastNonInteractiveSignInDateTime": NEVER_DATE,
    "lastNonInteractiveSignInRequestId": "",
    "lastSuccessfulSignInDateTime": NEVER_DATE,
    "lastSuccessfulSignInRequestId": "",
}


def with_sentinels(activity: dict[str, Any] | None) -> dict[str, Any]:
    """A signInActivity body (None: the user never signed in) with sentinels for every gap."""
    body = dict(_NEVER)
    for name, value in (activity or {}).items():
        if value is not None:
            body[name] = value
    return body
