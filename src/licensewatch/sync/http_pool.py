"""Keep-alive HTTPS connections shared by every scheduled sync of a daemon or worker process."""

from __future__ import annotations

import threading
from http.cookiejar import CookieJar, DefaultCookiePolicy

import httpx

from licensewatch.graph.client import GraphClient
from licensewatch.graph.connection import GraphConnection
from licensewatch.graph.http import build_http_client
from licensewatch.graph.retry import policy_from_settings
from licensewatch.graph.token_providers import TokenProviders
from licensewatch.settings import load_settings

# Per sync: up to five inventory reads at once plus the user page being prefetched.
CONNECTIONS_PER_SYNC = 6


class SharedHttp:
    """One httpx client per CA bundle, reused by the syncs of every tenant of this process.

    All tenants of a cloud talk to the same two hosts (Entra and Graph): a fresh client per sync
    paid a TLS context and a TLS handshake per connection per sync, a reused one pays neither.
    Tenants never share cookies (the jar refuses them all); tokens travel per request.
    """

    def __init__(self, concurrency: int = 4, *, timeout: float = 60.0) -> None:
        self._size = max(8, concurrency * CONNECTIONS_PER_SYNC)
        self._timeout = timeout
        # Read once per process, not per sync: parsing the LICENSEWATCH_* settings cost a
        # small tenant's sync about as much as its users (they change only with a restart).
        self.settings = settings = load_settings()
        self._retry = policy_from_settings(settings)
        self._rewrite_links = settings.graph_link_rewrite
        self._clients: dict[str | None, httpx.Client] = {}
        self._lock = threading.Lock()
        self._closed = False
        # Each tenant's MSAL app outlives its sync: the tenant's discovery once per process.
        self.tokens = TokenProviders(self.client)

    def client(self, ca_bundle: str | None) -> httpx.Client:
        with self._lock:
            if self._closed:
                raise RuntimeError("the shared HTTP connections are closed")
            found = self._clients.get(ca_bundle)
            if found is None:
                found = build_http_client(
                    ca_bundle, timeout=self._timeout, max_connections=self._size
                )
                found.cookies = CookieJar(DefaultCookiePolicy(allowed_domains=[]))
                self._clients[ca_bundle] = found
            return found

    def graph_client(self, connection: GraphConnection) -> GraphClient:
        """A GraphClient on the shared connections and the tenant's kept MSAL app (closing it
        leaves both open)."""
        return GraphClient(
            connection,
            token_provider=self.tokens.for_sync(connection),
            http=self.client(connection.ca_bundle),
            timeout=self._timeout,
            retry=self._retry,
            rewrite_links=self._rewrite_links,
        )

    def close(self) -> None:
        with self._lock:
            self._closed = True
            clients, self._clients = list(self._clients.values()), {}
        self.tokens.clear()
        for client in clients:
            client.close()
