"""msgraph-sdk reading /users with PageIterator: the peer licensewatch is measured against."""

from __future__ import annotations

import importlib
import ssl
import time
from typing import Any
from urllib.parse import urlsplit

import httpx

SCOPE = "https://graph.microsoft.com/.default"


def _sdk(module: str, name: str) -> Any:
    """A name from the optional `bench` extra, imported late (and untyped: it may be absent)."""
    return getattr(importlib.import_module(module), name)


class EmulatorTokenCredential:
    """An azure-core TokenCredential answering with a token fetched from the emulator.

    Used only when azure-identity's ClientSecretCredential cannot reach the emulator (its custom
    authority, port and CA); the token itself comes from the same client-credentials grant.
    """

    def __init__(self, conn: dict[str, Any], verify: ssl.SSLContext) -> None:
        self._conn, self._verify = conn, verify

    async def get_token(self, *scopes: str, **_: Any) -> Any:
        access_token = _sdk("azure.core.credentials", "AccessToken")
        async with httpx.AsyncClient(verify=self._verify, trust_env=False) as client:
            response = await client.post(
                f"{self._conn['base_url']}/{self._conn['tenant_id']}/oauth2/v2.0/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": self._conn["client_id"],
                    "client_secret": self._conn["client_secret"],
                    "scope": SCOPE,
                },
            )
        body = response.raise_for_status().json()
        return access_token(body["access_token"], int(time.time()) + int(body["expires_in"]))

    async def close(self) -> None:
        return None


async def _credential(conn: dict[str, Any], verify: ssl.SSLContext) -> tuple[Any, str]:
    """azure-identity's ClientSecretCredential when it works here, else the emulator fallback."""
    credential = _sdk("azure.identity.aio", "ClientSecretCredential")(
        conn["tenant_id"],
        conn["client_id"],
        conn["client_secret"],
        authority=urlsplit(conn["base_url"]).netloc,
        disable_instance_discovery=True,
        connection_verify=conn["ca_bundle"],
    )
    try:
        await credential.get_token(SCOPE)
        return credential, "azure-identity ClientSecretCredential"
    except Exception as exc:  # any failure: fall back, and say why in the report
        await credential.close()
        fallback = EmulatorTokenCredential(conn, verify)
        return fallback, f"custom TokenCredential ({type(exc).__name__})"


async def read_users(conn: dict[str, Any], cap: int, fields: list[str]) -> dict[str, Any]:
    configuration = _sdk("kiota_abstractions.base_request_configuration", "RequestConfiguration")
    provider = _sdk(
        "kiota_authentication_azure.azure_identity_authentication_provider",
        "AzureIdentityAuthenticationProvider",
    )
    users_builder = _sdk("msgraph.generated.users.users_request_builder", "UsersRequestBuilder")
    page_iterator = _sdk("msgraph_core.tasks.page_iterator", "PageIterator")
    factory = _sdk("msgraph_core", "GraphClientFactory")
    verify = ssl.create_default_context(cafile=conn["ca_bundle"])
    credential, how = await _credential(conn, verify)
    host = urlsplit(conn["base_url"]).hostname or ""
    auth = provider(credential, scopes=[SCOPE], allowed_hosts=[host])
    http = httpx.AsyncClient(verify=verify, trust_env=False, timeout=120.0)
    http = factory.create_with_default_middleware(client=http)
    adapter = _sdk("msgraph", "GraphRequestAdapter")(auth, client=http)
    adapter.base_url = f"{conn['base_url']}/v1.0"
    client = _sdk("msgraph", "GraphServiceClient")(request_adapter=adapter)
    query = users_builder.UsersRequestBuilderGetQueryParameters(select=fields, top=999)
    wall, cpu = time.perf_counter(), time.process_time()
    first = await client.users.get(request_configuration=configuration(query_parameters=query))
    pages = page_iterator(first, adapter)
    seen = 0
    while True:  # PageIterator.iterate, stopped at a page end once `cap` users were parsed
        seen += len(pages.current_page.value or [])
        following = await pages.next() if seen < cap else None
        if not following:
            break
        pages.current_page = following
    seconds, cpu = time.perf_counter() - wall, time.process_time() - cpu
    await http.aclose()
    await credential.close()
    return {"users": seen, "seconds": seconds, "cpu": cpu, "credential": how}
