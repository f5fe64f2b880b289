"""Token providers (MSAL apps) kept per tenant app across a process's syncs, renewed on change."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

import httpx

from licensewatch.graph.auth import TokenProvider
from licensewatch.graph.connection import GraphConnection

# Building a ConfidentialClientApplication reads the tenant's OpenID configuration (a request,
# its JSON and MSAL's authority set-up): a daemon syncing a tenant every hour paid that each
# time. MSAL keeps discovery answers for a day in its HTTP cache: a kept app is rebuilt as old.
MAX_AGE_SECONDS = 24 * 3600.0
# More than any fleet's tenants (an MSP's thousand): beyond it the least recently used goes.
CAPACITY = 4096

AppKey = tuple[str, str, str, str, str, str | None]


def _app_key(connection: GraphConnection) -> AppKey:
    """Which app registration in which tenant and cloud: everything but the credential."""
    return (
        connection.tenant,
        connection.client_id,
        connection.resolved_authority_host,
        connection.resolved_graph_endpoint,
        connection.cloud.value,
        connection.ca_bundle,
    )


class TokenProviders:
    """One TokenProvider per tenant app for the life of a process (daemon, worker), thread-safe.

    Each provider has its own MSAL app, token cache and HTTP cache: nothing is shared between
    tenants or credentials. A provider is handed out again only for the very same connection
    (credential included, as decrypted for this sync: a rotated secret or certificate builds a
    new app at the next sync) and only while its last token request succeeded (MSAL replays a
    400 for 60 s from its HTTP cache: a fixed consent or app must count at the next sync).
    Every sync starts without a token: roles granted or removed since count at once, as before.
    """

    def __init__(
        self,
        http_for: Callable[[str | None], httpx.Client],
        *,
        timeout: float = 30.0,
        capacity: int = CAPACITY,
        max_age: float = MAX_AGE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http_for = http_for
        self._timeout = timeout
        self._capacity = capacity
        self._max_age = max_age
        self._clock = clock
        self._kept: OrderedDict[AppKey, tuple[TokenProvider, float]] = OrderedDict()
        self._lock = threading.Lock()
        self.built = 0  # providers made (a new tenant, credential or a failure): for tests
        self.reused = 0

    def for_sync(self, connection: GraphConnection) -> TokenProvider:
        """The tenant's provider, its MSAL app kept when still valid, with no token yet."""
        key, now = _app_key(connection), self._clock()
        with self._lock:
            kept = self._kept.get(key)
            if kept is not None and self._still_good(kept, connection, now):
                self._kept.move_to_end(key)
                self.reused += 1
                provider = kept[0]
            else:
                provider = TokenProvider(
                    connection, http=self._http_for(connection.ca_bundle), timeout=self._timeout
                )
                self._kept[key] = (provider, now)  # replaces an old credential's app at once
                self._kept.move_to_end(key)
                self._drop_unused(now)
                self.built += 1
                return provider
        provider.invalidate()  # the previous sync's token stays behind (outside the lock above)
        return provider

    def _drop_unused(self, now: float) -> None:
        """The least recently used beyond capacity, and any too old to be handed out again: a
        removed tenant's credential does not stay in memory for the life of the process."""
        while self._kept:
            _, built_at = next(iter(self._kept.values()))
            if len(self._kept) <= self._capacity and now - built_at < self._max_age:
                break
            self._kept.popitem(last=False)

    def _still_good(
        self, kept: tuple[TokenProvider, float], connection: GraphConnection, now: float
    ) -> bool:
        provider, built_at = kept
        return (
            provider.connection == connection  # the credential too: a rotation builds anew
            and provider.reusable
            and now - built_at < self._max_age
        )

    def __len__(self) -> int:
        with self._lock:
            return len(self._kept)

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()
