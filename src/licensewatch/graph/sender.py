"""Graph's request machinery: authenticated sends, their retries, token refresh and budget."""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx

from licensewatch.graph.auth import AccessToken, AuthError, TokenProvider
from licensewatch.graph.errors import GraphError, error_from_response, host_only, unreachable_error
from licensewatch.graph.http import GraphStats, RequestInfo, is_tls_failure
from licensewatch.graph.page_chain import Headers, Params
from licensewatch.graph.retry import RetryBudget, RetryPolicy

log = logging.getLogger("licensewatch.graph.client")  # the name operators filter on, as before
# MSAL answers a 5xx/429 from its response cache for Retry-After seconds, 5 s without one (MSAL
# Python's throttling cache): a token retry waits past it.
_TOKEN_RETRY_FLOOR = 5.0


class _Cancelled(Exception):
    """The page iterator was abandoned while its prefetch was waiting to retry."""


class GraphSender:
    """What `GraphClient` sends through: one request, its retries, pauses, counts and hooks."""

    _http: httpx.Client
    _tokens: TokenProvider
    _retry: RetryPolicy
    _rng: random.Random
    _lock: threading.Lock
    budget: RetryBudget
    stats: GraphStats
    on_request: Callable[[RequestInfo], None] | None

    def _token(self, cancel: threading.Event | None) -> tuple[AccessToken, float]:
        """A token, retrying transient Entra failures (5xx, throttling, resets) within budget."""
        policy, attempt, waited = self._retry, 0, 0.0
        while True:
            attempt += 1
            try:
                return self._tokens.token(), waited
            except AuthError as exc:
                if exc.retry_after is not None:  # ESTS said how long (MSAL caches it that long)
                    delay = max(policy.min_delay, exc.retry_after)
                else:
                    backoff = policy.delay_for_transport_error(attempt, self._rng)
                    delay = max(_TOKEN_RETRY_FLOOR, backoff)
                if not (exc.transient and policy.allows(attempt, waited, delay)):
                    raise
                if not self.budget.spend(delay):
                    raise
                waited += self._pause(delay, cancel)

    def _resumable(
        self,
        url: str,
        params: Params,
        headers: Headers,
        cancel: threading.Event | None,
        *,
        authenticated: bool = True,
        stream: bool = False,
    ) -> httpx.Response:
        """`_send`, and when a request gave up on a transient failure: pause, then ask again.

        Pages already handed to the caller stay handed: the chain resumes at this very request,
        as long as the whole-sync budget of waiting allows.
        """
        while True:
            try:
                return self._send(
                    url, params, headers, cancel, authenticated=authenticated, stream=stream
                )
            except GraphError as exc:
                pause = max(self._retry.pause, exc.retry_after or 0.0)
                if not exc.retryable or not self.budget.spend(pause):
                    raise
                log.warning(
                    "%s; pausing %.1f s before asking again (%.0f of %.0f s of the sync's "
                    "retry budget spent)",
                    exc,
                    pause,
                    self.budget.spent,
                    self.budget.seconds,
                )
                self._pause(pause, cancel)

    def _send(
        self,
        url: str,
        params: Params,
        headers: Headers,
        cancel: threading.Event | None,
        *,
        authenticated: bool = True,
        method: str = "GET",
        content: bytes | None = None,
        stream: bool = False,
    ) -> httpx.Response:
        policy, attempt, waited, refreshed = self._retry, 0, 0.0, not authenticated
        write = method != "GET"
        while True:
            attempt += 1
            if cancel is not None and cancel.is_set():
                raise _Cancelled
            sent = dict(headers or {})
            if authenticated:
                token, token_wait = self._token(cancel)
                waited += token_wait
                sent["Authorization"] = f"Bearer {token.value}"
            crid = str(uuid.uuid4())
            sent["client-request-id"] = crid
            # A pre-authenticated URL is itself a credential: hooks and errors see its host only.
            shown = url if authenticated else host_only(url)
            started = time.perf_counter()
            try:
                if stream:  # a large download: its body is read by the caller, as it arrives
                    request = self._http.build_request(
                        method, url, params=params, headers=sent, content=content
                    )
                    response = self._http.send(request, stream=True)
                    if response.status_code >= 400:
                        response.read()  # an error's body is small and tells what failed
                else:
                    response = self._http.request(
                        method, url, params=params, headers=sent, content=content
                    )
            except httpx.TransportError as exc:
                self._count(requests=1)
                self._notify(method, shown, started, attempt, None, crid, error=repr(exc))
                delay = policy.delay_for_transport_error(attempt, self._rng)
                if is_tls_failure(exc):
                    raise unreachable_error(exc, shown, crid, attempt) from exc
                if write:  # the write may have happened: never re-send blindly
                    error = unreachable_error(exc, shown, crid, attempt)
                    error.uncertain = not isinstance(exc, httpx.ConnectError)
                    raise error from exc
                if not (policy.allows(attempt, waited, delay) and self.budget.spend(delay)):
                    error = unreachable_error(exc, shown, crid, attempt)
                    error.retryable = True
                    raise error from exc
                waited += self._pause(delay, cancel)
                continue
            status = response.status_code
            if stream and status < 400:  # unread yet: its announced length, if any
                size = int(response.headers.get("content-length") or 0)
            else:
                size = len(response.content)
            self._count(requests=1, bytes=size, throttled=int(status == 429))
            request_id = response.headers.get("request-id")
            self._notify(
                method, shown, started, attempt, status, crid, request_id=request_id, size=size
            )
            if status < 400:
                return response
            if status == 401 and not refreshed:  # token revoked or expired early: refresh once
                refreshed = True
                self._tokens.invalidate()
                self._count(retries=1)
                continue
            delay_or_none = policy.delay_for_status(status, response.headers, attempt, self._rng)
            if write and status != 429:  # only a throttled write surely did nothing
                delay_or_none = None
            if (
                delay_or_none is not None
                and policy.allows(attempt, waited, delay_or_none)
                and self.budget.spend(delay_or_none)
            ):
                waited += self._pause(delay_or_none, cancel)
                continue
            error = self._error(response, shown, crid, attempt, delay_or_none is not None)
            error.uncertain = write and status >= 500
            if delay_or_none is not None:  # a transient status: the chain may pause and resume
                error.retryable, error.retry_after = True, delay_or_none
            raise error

    def _error(
        self, response: httpx.Response, url: str, crid: str, attempt: int, gave_up: bool
    ) -> GraphError:
        note = f" (gave up after {attempt} attempts)" if gave_up else ""
        return error_from_response(
            response.status_code, response.headers, response.content, url, crid, note=note
        )

    def _pause(self, delay: float, cancel: threading.Event | None) -> float:
        self._count(retries=1)
        if self._retry.sleep is not None:
            self._retry.sleep(delay)
        elif cancel is not None:
            if cancel.wait(delay):
                raise _Cancelled
        else:
            time.sleep(delay)
        return delay

    def _count(self, **increments: int) -> None:
        with self._lock:
            for name, value in increments.items():
                setattr(self.stats, name, getattr(self.stats, name) + value)

    def _notify(
        self,
        method: str,
        url: str,
        started: float,
        attempt: int,
        status: int | None,
        crid: str,
        **more: Any,
    ) -> None:
        if self.on_request is not None:
            elapsed = time.perf_counter() - started
            self.on_request(RequestInfo(method, url, elapsed, attempt, status, crid, **more))
