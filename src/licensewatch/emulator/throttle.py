"""Graph's identity throttling: resource-unit token buckets per app+tenant, and their 429."""

from __future__ import annotations

import math
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from licensewatch.emulator.graph.errors import error_body, json_response, request_ids

WINDOW_SECONDS = 10.0
# Resource units per 10 s for an application+tenant pair, by tenant size
# (learn.microsoft.com/graph/throttling-limits).
QUOTA_SMALL, QUOTA_MEDIUM, QUOTA_LARGE = 3_500, 5_000, 8_000
_BASE_COSTS = {
    "users": 2,
    "subscribedSkus": 3,
    "licenseDetails": 2,
    "members": 3,
    "transitiveMembers": 5,
}


def tenant_quota(users: int | None) -> int:
    """The RU quota per 10 s: S < 50 users, M 50–500, L > 500 (M when the size is unknown)."""
    if users is None:
        return QUOTA_MEDIUM
    if users < 50:
        return QUOTA_SMALL
    return QUOTA_MEDIUM if users <= 500 else QUOTA_LARGE


def request_cost(path: str, params: Mapping[str, str]) -> int:
    """Resource units of a GET: base cost, $select −1, $expand +1, $top < 20 −1, at least 1."""
    segments = [s for s in path.split("/") if s][1:]  # drop "v1.0"
    cost = 1
    if segments:
        last = segments[-1]
        if last in _BASE_COSTS and (last != "users" or len(segments) == 1):
            cost = _BASE_COSTS[last]
        elif segments[0] in {"users", "subscribedSkus"}:
            cost = _BASE_COSTS[segments[0]]
    if "$select" in params:
        cost -= 1
    if "$expand" in params:
        cost += 1
    top = params.get("$top", "")
    if top.isdigit() and int(top) < 20:
        cost -= 1
    return max(cost, 1)


@dataclass(slots=True)
class Bucket:
    capacity: float
    tokens: float
    updated: float

    def take(self, cost: int, now: float) -> float:
        """Charge `cost`; returns 0 when allowed, else the seconds until enough units are back."""
        rate = self.capacity / WINDOW_SECONDS
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * rate)
        self.updated = now
        if self.tokens >= cost:
            self.tokens -= cost
            return 0.0
        return (cost - self.tokens) / rate

    def used_fraction(self) -> float:
        return 1.0 - self.tokens / self.capacity


def format_retry_after(seconds: float, rng: random.Random) -> str | None:
    """Retry-After as the identity service sends it: whole seconds, fractional, or absent."""
    roll = rng.random()
    if roll < 0.1:
        return None
    if roll < 0.35:
        return f"{max(seconds, 0.001):.3f}"
    return str(max(1, math.ceil(seconds)))


def too_many_requests(
    request: Request, app_id: str, tenant_id: str, retry_after: str | None
) -> Response:
    ids = request_ids(request)
    message = (
        f"Too many requests from Identifier:{app_id}+{tenant_id} under category:"
        "throttle.aad.ags.appId.large. Please try again later."
    )
    headers = {
        "x-ms-throttle-scope": f"Tenant_Application/ReadWrite/{app_id}/{tenant_id}",
        "x-ms-throttle-information": "ResourceUnitLimitExceeded",
    }
    if retry_after is not None:
        headers["Retry-After"] = retry_after
    return json_response(error_body("TooManyRequests", message, ids), ids, 429, headers)


class Throttle:
    """Token buckets keyed by (tenant, app); `quota_override` lets tests shrink the quota."""

    def __init__(self, seed: int, quota_override: int | None = None) -> None:
        self._buckets: dict[tuple[str, str], Bucket] = {}
        self._rng = random.Random(f"throttle:{seed}")
        self.quota_override = quota_override

    def check(
        self, request: Request, tenant_id: str, app_id: str, user_count: int | None
    ) -> Response | None:
        """None when the request fits the bucket, else the 429 to answer."""
        now = time.monotonic()
        key = (tenant_id, app_id)
        bucket = self._buckets.get(key)
        if bucket is None:
            quota = self.quota_override or tenant_quota(user_count)
            bucket = self._buckets[key] = Bucket(float(quota), float(quota), now)
        cost = request_cost(request.url.path, request.query_params)
        wait = bucket.take(cost, now)
        if wait <= 0:
            used = bucket.used_fraction()
            if used > 0.8:
                request.scope["graph.throttle_percentage"] = f"{min(used, 1.8):.1f}"
            return None
        return too_many_requests(request, app_id, tenant_id, format_retry_after(wait, self._rng))

    def reset(self) -> None:
        self._buckets.clear()
