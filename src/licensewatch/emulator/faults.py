"""Latency, throttling and fault injection, driven by a seeded, documented fault SPEC.

SPEC grammar (``--faults``, control API, ``FaultInjector.configure``); "" means no faults::

    SPEC   := ITEM ("," ITEM)*
    ITEM   := KIND ["=" ARG] [":" RATE] ["@" PREFIX] ("#" OPTION)*
    OPTION := COUNT          fire at most COUNT times
            | "after=" N     let the first N matching requests through untouched
            | "nth=" N       same as after=N-1: start at the Nth matching request

KIND (ARG in brackets):
    429 [retry-after s]   Graph's TooManyRequests; Retry-After seeded, whole or fractional
    429-noretry           throttled without a Retry-After header
    503 [retry-after s]   serviceNotAvailable; 504: GatewayTimeout
    500, 502 [retry-after s]  generalException / BadGateway (transient server faults)
    expire-pagetoken      a request carrying a $skiptoken gets 400 Directory_ExpiredPageToken
    signin-403            a request selecting signInActivity gets the non-premium 403 (any page)
    delta-resync [code]   a delta request with an earlier round's token gets 400 syncStateNotFound
                          (or ARG: resyncRequired) instead of a 410
    repeat-users [n, 3]   a users page that follows a nextLink also carries the first n users
    reset                 the connection drops mid-body (headers and half the JSON, then nothing)
    truncate              a complete HTTP answer whose JSON is cut in half
    garble                a complete HTTP answer whose JSON is corrupted
    slow [stall s, 30]    half the body, a stall of ARG seconds, then the rest (client timeouts)
    latency [ms, 200]     an extra delay before the answer
    token-down ["reset"]  the token endpoint answers 503 AADSTS90033 ("reset": drops the connection)
    token-error CODE      the token endpoint answers AADSTS CODE: 7000112 (app disabled), 53003
                          (Conditional Access), 500011 (resource not in tenant), 90038 (cloud)
    token-throttle [s]    the token endpoint answers 429 AADSTS90055 with Retry-After ARG (or none)
    repeat-nextlink       a users page request that follows a nextLink gets that same nextLink back

RATE (0..1, default 1) is the chance a matching request is hit, drawn from a generator seeded
with options.seed and the item's position, so a run is deterministic. PREFIX is a path prefix
(default: every Graph path, or the token endpoint for token-down). Items are checked in order; the
first that fires wins.
Example: ``503@/v1.0/users#nth=3#2`` makes the 3rd and 4th users requests fail with 503.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import Response

from licensewatch.emulator import fault_answers, throttle
from licensewatch.emulator.counters import RequestCounter
from licensewatch.emulator.errors_aad import AadError
from licensewatch.emulator.errors_aad import error_response as aad_error_response
from licensewatch.emulator.graph.bodies import garbled, resetting, slow, truncated
from licensewatch.emulator.graph.errors import error_response
from licensewatch.emulator.options import EmulatorOptions

STATUS_KINDS = frozenset(
    {"429", "429-noretry", "500", "502", "503", "504", "latency"}
    | {"expire-pagetoken", "signin-403", "delta-resync"}
)
BODY_KINDS = frozenset({"reset", "truncate", "garble", "slow"})
TOKEN_KINDS = frozenset({"token-down", "token-error", "token-throttle"})
LINK_KINDS = frozenset({"repeat-nextlink"})
REPEAT_KINDS = frozenset({"repeat-users"})
KINDS = STATUS_KINDS | BODY_KINDS | TOKEN_KINDS | LINK_KINDS | REPEAT_KINDS
# Kinds that only count (and hit) the requests they make sense for.
_APPLIES = {
    "expire-pagetoken": lambda request: "$skiptoken" in request.query_params,
    "signin-403": fault_answers.wants_sign_in,
    "delta-resync": fault_answers.continues_delta,
    "token-error": fault_answers.is_token_request,
    "token-throttle": fault_answers.is_token_request,
}


@dataclass(slots=True)
class Fault:
    kind: str
    arg: str | None = None
    rate: float = 1.0
    prefix: str = ""
    after: int = 0
    count: int | None = None
    rng: random.Random = field(default_factory=random.Random)
    seen: int = 0
    fired: int = 0

    def hit(self, path: str) -> bool:
        """Count a matching request and decide whether this fault hits it."""
        if not path.startswith(self.prefix):
            return False
        self.seen += 1
        if self.seen <= self.after or (self.count is not None and self.fired >= self.count):
            return False
        if self.rate < 1.0 and self.rng.random() >= self.rate:
            return False
        self.fired += 1
        return True


def parse_spec(spec: str, seed: int) -> list[Fault]:
    """Parse a fault SPEC (grammar in the module docstring); raises ValueError on a bad item."""
    faults: list[Fault] = []
    for index, item in enumerate(part.strip() for part in spec.split(",")):
        if not item:
            continue
        head, *options = item.split("#")
        head, _, prefix = head.partition("@")
        head, _, rate = head.partition(":")
        kind, _, arg = head.strip().partition("=")
        kind = kind.strip().lower()
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r} in {item!r}")
        fault = Fault(kind, arg.strip() or None, rng=random.Random(f"fault:{seed}:{index}:{kind}"))
        if rate:
            fault.rate = _number(rate, item)
            if not 0.0 <= fault.rate <= 1.0:
                raise ValueError(f"fault rate must be within 0..1 in {item!r}")
        prefix = prefix.strip()
        fault.prefix = prefix if not prefix or prefix.startswith("/") else f"/{prefix}"
        for option in (o.strip().lower() for o in options):
            if option.startswith("after="):
                fault.after = int(_number(option[6:], item))
            elif option.startswith("nth="):
                fault.after = int(_number(option[4:], item)) - 1
            elif option.isdigit():
                fault.count = int(option)
            else:
                raise ValueError(f"unknown fault option {option!r} in {item!r}")
        faults.append(fault)
    return faults


def _number(text: str, item: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"bad number {text!r} in fault {item!r}") from None


class FaultInjector:
    """Decides, per request, on latency, throttling and the faults of the active SPEC."""

    def __init__(self, options: EmulatorOptions) -> None:
        self.options = options
        self.latency_ms = options.latency_ms
        self.throttle = throttle.Throttle(options.seed)
        self.throttle_enabled = options.throttle == "realistic"
        self.spec = ""
        self.requests = RequestCounter()  # every token and Graph request, for /_emulator/requests
        self._faults: list[Fault] = []
        self._rng = random.Random(f"faults:{options.seed}")
        self.configure(options.faults)

    def configure(self, spec: str) -> None:
        """Replace the active faults (their counters start again from zero)."""
        self._faults = parse_spec(spec, self.options.seed)
        self.spec = spec

    def _first(self, kinds: frozenset[str], request: Request) -> Fault | None:
        path = request.url.path
        for fault in self._faults:
            applies = _APPLIES.get(fault.kind)
            if fault.kind in kinds and (applies is None or applies(request)) and fault.hit(path):
                return fault
        return None

    async def _delay(self) -> None:
        if self.latency_ms > 0:
            await asyncio.sleep(self.latency_ms / 1000)

    async def before_token_request(self, request: Request) -> Response | None:
        self.requests.count("entra", request.url.path)
        await self._delay()
        fault = self._first(TOKEN_KINDS, request)
        if fault is None:
            return None
        if fault.kind == "token-error":
            return aad_error_response(request, fault_answers.token_error(fault.arg, request))
        if fault.kind == "token-throttle":
            answer = aad_error_response(request, fault_answers.token_throttled())
            if fault.arg:
                answer.headers["Retry-After"] = fault.arg
            return answer
        answer = aad_error_response(
            request,
            AadError(
                90033,
                "temporarily_unavailable",
                503,
                "A transient error has occurred. Please try again.",
            ),
        )
        if fault.arg == "reset":
            return resetting(bytes(answer.body), answer)
        return answer

    async def before_graph_request(
        self, request: Request, tenant_id: str, app_id: str
    ) -> Response | None:
        self.requests.count("graph", request.url.path)
        await self._delay()
        fault = self._first(STATUS_KINDS, request)
        while fault is not None and fault.kind == "latency":
            await asyncio.sleep(float(fault.arg or 200) / 1000)
            fault = self._first(STATUS_KINDS - {"latency"}, request)
        if fault is not None:
            return self._status_fault(request, fault, tenant_id, app_id)
        if self.throttle_enabled:
            user_count = request.scope.get("graph.user_count")
            return self.throttle.check(
                request, tenant_id, app_id, user_count if isinstance(user_count, int) else None
            )
        return None

    def _status_fault(
        self, request: Request, fault: Fault, tenant_id: str, app_id: str
    ) -> Response:
        if fault.kind == "429":
            retry = fault.arg or self._retry_after()
            return throttle.too_many_requests(request, app_id, tenant_id, retry)
        if fault.kind == "429-noretry":
            return throttle.too_many_requests(request, app_id, tenant_id, None)
        if fault.kind in fault_answers.GRAPH_5XX:
            return fault_answers.graph_5xx(request, fault.kind, fault.arg)
        if fault.kind == "expire-pagetoken":
            return fault_answers.expired_page_token(request)
        if fault.kind == "signin-403":
            return fault_answers.sign_in_forbidden(request)
        if fault.kind == "delta-resync":
            return fault_answers.delta_resync(request, fault.arg)
        headers = {"Retry-After": fault.arg} if fault.arg else None
        if fault.kind == "503":
            return error_response(
                request,
                503,
                "serviceNotAvailable",
                "Service unavailable. Please try again later.",
                headers,
            )
        return error_response(request, 504, "GatewayTimeout", "The gateway timed out.", headers)

    def _retry_after(self) -> str:
        # Whole seconds or fractional (the doc sample says 2.128): clients must parse floats.
        if self._rng.random() < 0.5:
            return "1"
        return f"{self._rng.uniform(0.05, 1.5):.3f}"

    def wrap_response(self, request: Request, body: bytes, response: Response) -> Response:
        """Maybe swap a successful answer for a broken one (reset, truncated, garbled, slow)."""
        fault = self._first(BODY_KINDS, request)
        if fault is None:
            return response
        if fault.kind == "reset":
            return resetting(body, response)
        if fault.kind == "truncate":
            return truncated(body, response)
        if fault.kind == "garble":
            return garbled(body, response)
        return slow(body, response, float(fault.arg or 30))

    def resource_units(self, request: Request) -> int:
        """The x-ms-resource-unit cost of a Graph request (charged when throttling)."""
        return throttle.request_cost(request.url.path, request.query_params)

    def repeat_nextlink(self, request: Request) -> bool:
        """Whether this users page hands back the nextLink it was called with."""
        return self._first(LINK_KINDS, request) is not None

    def repeated_users(self, request: Request) -> int:
        """How many of the tenant's first users this (later) users page repeats (0: none)."""
        fault = self._first(REPEAT_KINDS, request)
        return 0 if fault is None else int(float(fault.arg or 3))
