"""The receiver check documented in docs/intelligence.md accepts real deliveries, not replays."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from alert_receivers import Hook, webhook_server

from licensewatch.intelligence.alerts.webhook import REPLAY_WINDOW_SECONDS, post_json

DOCS = Path(__file__).resolve().parents[2] / "docs" / "intelligence.md"
SECRET = b"receiver-shared-secret-0123"
Verify = Callable[[bytes, dict[str, str], bytes], bool]


def _documented_verify() -> Verify:
    blocks = re.findall(r"```python\n(.*?)```", DOCS.read_text(), re.DOTALL)
    source = next(block for block in blocks if "def verify(" in block)
    namespace: dict[str, Any] = {}
    exec(compile(source, str(DOCS), "exec"), namespace)  # noqa: S102 - our own documentation
    verify: Verify = namespace["verify"]
    assert namespace["REPLAY_WINDOW"] == REPLAY_WINDOW_SECONDS
    return verify


@pytest.fixture
def delivered() -> tuple[dict[str, str], bytes]:
    hook: Hook
    with webhook_server() as hook:
        post_json(hook.url, {"event": "test"}, SECRET, None, allow_private=True)
        headers, body = hook.requests[0]
    # Header names as a receiver's framework gives them (the test server lower-cased them).
    return {k.title(): v for k, v in headers.items()}, body


def test_a_fresh_delivery_verifies(delivered: tuple[dict[str, str], bytes]) -> None:
    headers, body = delivered
    assert _documented_verify()(SECRET, headers, body)


def test_a_replay_or_a_forgery_does_not(
    delivered: tuple[dict[str, str], bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    verify = _documented_verify()
    headers, body = delivered
    assert not verify(b"another-secret", headers, body)
    assert not verify(SECRET, headers, body + b" ")
    moved = dict(headers, **{"X-Licensewatch-Timestamp": str(int(time.time()) + 1)})
    assert not verify(SECRET, moved, body)  # the timestamp is signed: it cannot be refreshed
    later = time.time() + REPLAY_WINDOW_SECONDS + 5
    monkeypatch.setattr(time, "time", lambda: later)
    assert not verify(SECRET, headers, body)  # the same request, replayed after the window
