"""Kept MSAL apps: one per tenant app, replaced by a new credential, dropped when old or many."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from licensewatch.graph.connection import ClientSecretCredential, GraphConnection
from licensewatch.graph.token_providers import TokenProviders


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client() as client:
        yield client


FIRST_SECRET = "s3cret~value"


def connection(tenant: str, secret: str = FIRST_SECRET) -> GraphConnection:
    return GraphConnection(
        tenant=tenant,
        client_id="11111111-2222-3333-4444-555555555555",
        credential=ClientSecretCredential(secret),
    )


def test_tenants_never_share_a_provider_and_a_new_secret_replaces_the_old_app(
    http: httpx.Client,
) -> None:
    providers = TokenProviders(lambda _: http)
    first = providers.for_sync(connection("contoso.onmicrosoft.com"))
    other = providers.for_sync(connection("fabrikam.onmicrosoft.com"))
    assert first is not other
    assert other.connection.tenant == "fabrikam.onmicrosoft.com"
    rotated = providers.for_sync(connection("contoso.onmicrosoft.com", "n3w~secret"))
    assert rotated is not first
    assert rotated.connection.credential == ClientSecretCredential("n3w~secret")
    assert len(providers) == 2  # the old secret's app is gone, not kept beside the new one
    # Never signed in (no MSAL app yet): nothing worth keeping, a new one is built.
    again = providers.for_sync(connection("contoso.onmicrosoft.com", "n3w~secret"))
    assert again is not rotated
    assert (providers.built, providers.reused) == (4, 0)


def test_the_least_recently_used_and_the_old_are_dropped(http: httpx.Client) -> None:
    now = [0.0]
    providers = TokenProviders(lambda _: http, capacity=2, max_age=100.0, clock=lambda: now[0])
    for name in ("a.example", "b.example", "c.example"):
        providers.for_sync(connection(name))
    assert len(providers) == 2
    now[0] = 150.0  # a and b's apps are too old to be handed out, and to be kept
    providers.for_sync(connection("d.example"))
    assert len(providers) == 1
    providers.clear()
    assert len(providers) == 0
