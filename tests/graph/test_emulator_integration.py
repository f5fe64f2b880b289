"""The graph package against the emulator over real TLS: real MSAL, real tokens, real faults."""

from __future__ import annotations

import datetime as dt
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pytest
from starlette.applications import Starlette

from licensewatch.emulator import certs
from licensewatch.emulator.apps import App
from licensewatch.emulator.auth_routes import auth_routes
from licensewatch.emulator.faults import FaultInjector
from licensewatch.emulator.graph.routes import graph_routes
from licensewatch.emulator.options import EmulatorOptions
from licensewatch.emulator.seed import build_world
from licensewatch.emulator.server import RunningEmulator
from licensewatch.emulator.state import Tenant
from licensewatch.emulator.tokens import TokenIssuer
from licensewatch.graph.auth import AccessToken, TokenProvider
from licensewatch.graph.client import GraphClient
from licensewatch.graph.connection import (
    CertificateCredential,
    ClientSecretCredential,
    Credential,
    GraphConnection,
)
from licensewatch.graph.errors import (
    AuthError,
    AuthFailure,
    GraphProtocolError,
    GraphUnavailableError,
)
from licensewatch.graph.http import build_http_client
from licensewatch.graph.retry import RetryPolicy

MakeEmulator = Callable[..., RunningEmulator]
USERS_QUERY = {"$select": "id,assignedLicenses,licenseAssignmentStates", "$top": "999"}


@dataclass
class Env:
    running: RunningEmulator
    tenant: Tenant
    app: App
    injector: FaultInjector
    tmp: Path

    def connection(
        self,
        credential: Credential | None = None,
        *,
        tenant: str | None = None,
        client_id: str | None = None,
        ca_bundle: str | None = None,
        base: str | None = None,
    ) -> GraphConnection:
        live = next(s for s in self.app.secrets if s.display_name == "collector")
        return GraphConnection(
            tenant or self.tenant.tenant_id,
            client_id or self.app.client_id,
            credential or ClientSecretCredential(live.value),
            authority_host=base or self.running.base_url,
            graph_endpoint=base or self.running.base_url,
            ca_bundle=ca_bundle or str(self.running.ca_bundle),
        )

    def certificate(self) -> CertificateCredential:
        cert = self.app.certificates[0]
        assert cert.private_key_path
        return CertificateCredential(Path(cert.private_key_path).read_bytes(), cert.certificate_pem)


def start(make_emulator: MakeEmulator, tmp: Path, users: int = 20, lifetime: int = 3599) -> Env:
    world = build_world(
        tenants=1, users=users, seed=11, cert_dir=tmp / "w", token_lifetime_seconds=lifetime
    )
    options, issuer = EmulatorOptions(), TokenIssuer(world)
    injector = FaultInjector(options)
    routes = [
        *auth_routes(world, issuer, injector),
        *graph_routes(world, issuer, injector, options),
    ]
    running = make_emulator(world, app=Starlette(routes=routes))
    tenant = next(iter(world.tenants.values()))
    return Env(running, tenant, next(iter(tenant.apps.values())), injector, tmp)


@pytest.fixture
def env(make_emulator: MakeEmulator, tmp_path: Path) -> Env:
    return start(make_emulator, tmp_path)


def fast_retries() -> RetryPolicy:
    return RetryPolicy(sleep=lambda seconds: None)


@pytest.mark.parametrize("mode", ["secret", "x5c", "thumbprint", "domain"])
def test_tokens_for_every_credential_form(env: Env, mode: str) -> None:
    credential = env.certificate() if mode in {"x5c", "thumbprint"} else None
    tenant = env.tenant.domain if mode == "domain" else None
    certificate_mode: Literal["x5c", "thumbprint"] = "thumbprint" if mode == "thumbprint" else "x5c"
    with TokenProvider(
        env.connection(credential, tenant=tenant), certificate_mode=certificate_mode
    ) as tokens:
        token = tokens.token()
        assert tokens.token() is token  # cached
    seeded = {"Directory.Read.All", "User.Read.All", "Reports.Read.All", "ReportSettings.Read.All"}
    assert token.roles == frozenset(seeded)
    assert (token.tenant_id, token.app_id) == (env.tenant.tenant_id, env.app.client_id)
    assert token.expires_on > time.time() + 3000
    assert token.value not in repr(token)


def _expired_secret(env: Env) -> Credential:
    return ClientSecretCredential(next(s.value for s in env.app.secrets if s.display_name == "old"))


def _unregistered(env: Env) -> Credential:
    pair = certs.make_client_certificate("never uploaded", certs_not_after())
    return CertificateCredential(pair.private_key_pem, pair.certificate_pem)


def certs_not_after() -> dt.datetime:
    return dt.datetime.now(dt.UTC) + dt.timedelta(days=30)


FAILURES: list[tuple[AuthFailure, Callable[[Env], GraphConnection], int | None, str]] = [
    (
        AuthFailure.WRONG_SECRET,
        lambda e: e.connection(ClientSecretCredential("abC8Q~wrong")),
        7000215,
        "not its Secret ID",
    ),
    (
        AuthFailure.EXPIRED_SECRET,
        lambda e: e.connection(_expired_secret(e)),
        7000222,
        "new client secret",
    ),
    (
        AuthFailure.TENANT_NOT_FOUND,
        lambda e: e.connection(tenant="00000000-0000-4000-8000-000000000001"),
        90002,
        "Directory (tenant) ID",
    ),
    (AuthFailure.TENANT_MALFORMED, lambda e: e.connection(tenant="not_a_domain"), 900023, "GUID"),
    (
        AuthFailure.APP_NOT_FOUND,
        lambda e: e.connection(client_id="00000000-0000-4000-8000-000000000002"),
        700016,
        "Application (client) ID",
    ),
    (
        AuthFailure.CERTIFICATE_NOT_REGISTERED,
        lambda e: e.connection(_unregistered(e)),
        700027,
        "Upload the certificate",
    ),
]


@pytest.mark.parametrize(("kind", "build", "code", "fix"), FAILURES, ids=[f[0] for f in FAILURES])
def test_each_auth_failure_is_classified(
    env: Env, kind: AuthFailure, build: Callable[[Env], GraphConnection], code: int, fix: str
) -> None:
    with TokenProvider(build(env)) as tokens, pytest.raises(AuthError) as caught:
        tokens.token()
    assert caught.value.kind is kind
    assert caught.value.aadsts == code
    assert fix in caught.value.fix
    assert f"AADSTS{code}" in caught.value.message
    assert caught.value.correlation_id


def test_wrong_ca_bundle_is_a_named_tls_failure(env: Env) -> None:
    other_ca = env.tmp / "other-ca.pem"
    other_ca.write_bytes(certs.make_ca("someone else").certificate_pem)
    with (
        TokenProvider(env.connection(ca_bundle=str(other_ca))) as tokens,
        pytest.raises(AuthError) as caught,
    ):
        tokens.token()
    assert caught.value.kind is AuthFailure.TLS
    assert "127.0.0.1" in caught.value.message
    assert "--ca-bundle" in caught.value.fix
    # Graph itself behind an untrusted certificate: never retried, never switched off.
    with TokenProvider(env.connection()) as tokens:
        http = build_http_client(str(other_ca))
        client = GraphClient(env.connection(), token_provider=tokens, http=http)
        with client, http, pytest.raises(GraphUnavailableError, match="TLS certificate"):
            client.get_json("/organization")
        assert client.stats.retries == 0


def test_unreachable_host_is_a_network_failure(env: Env) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    conn = env.connection(base=f"https://127.0.0.1:{port}")
    with TokenProvider(conn) as tokens, pytest.raises(AuthError) as caught:
        tokens.token()
    assert caught.value.kind is AuthFailure.NETWORK
    assert f"127.0.0.1:{port}" in caught.value.fix


def test_revoked_consent_gives_a_token_without_roles(env: Env) -> None:
    env.app.roles = set()
    with TokenProvider(env.connection()) as tokens:
        assert tokens.token().roles == frozenset()


def test_paging_a_2000_user_tenant_equals_the_truth(
    make_emulator: MakeEmulator, tmp_path: Path
) -> None:
    env = start(make_emulator, tmp_path, users=2000)
    truth = {user.id for _, user in env.tenant.iter_users_from(0)}
    with GraphClient(env.connection()) as client:
        pages = list(client.iter_pages("/users", USERS_QUERY))
        assert client.count_users() == 2000
    ids = [item["id"] for page in pages for item in page.items]
    assert len(ids) == 2000
    assert set(ids) == truth
    assert [p.number for p in pages] == [1, 2, 3]
    assert all("assignedLicenses" in item for item in pages[0].items)
    assert all(p.request_id for p in pages)


def test_paging_survives_throttling_resets_and_garbled_pages(
    make_emulator: MakeEmulator, tmp_path: Path
) -> None:
    env = start(make_emulator, tmp_path, users=2000)
    env.injector.configure(
        "429@/v1.0/users#2,503@/v1.0/users#nth=3#1,reset@/v1.0/users#1,garble@/v1.0/users#nth=5#1"
    )
    with GraphClient(env.connection(), retry=fast_retries()) as client:
        ids = [i["id"] for p in client.iter_pages("/users", USERS_QUERY) for i in p.items]
        assert len(ids) == len(set(ids)) == 2000
        assert client.stats.throttled == 2
        assert client.stats.retries >= 4


def test_retry_budget_runs_out_into_unavailable(env: Env) -> None:
    env.injector.configure("503@/v1.0/organization")
    # Two retries (about 1 s each, the floor) fit the sync budget; a 60 s pause does not.
    policy = RetryPolicy(max_attempts=3, sync_budget=5.0, sleep=lambda seconds: None)
    client = GraphClient(env.connection(), retry=policy)
    with client, pytest.raises(GraphUnavailableError, match="gave up after 3 attempts") as caught:
        client.get_json("/organization")
    assert caught.value.request_id
    assert client.stats.requests == 3


def test_a_repeated_next_link_from_the_server_stops_paging(
    make_emulator: MakeEmulator, tmp_path: Path
) -> None:
    env = start(make_emulator, tmp_path, users=30)
    env.injector.configure("repeat-nextlink")
    client = GraphClient(env.connection())
    with client, pytest.raises(GraphProtocolError, match="repeats an earlier nextLink"):
        list(client.iter_pages("/users", {"$top": "10"}))


class StaleFirst(TokenProvider):
    """Hands out an already expired (but genuine) token once, as a long request would hold one."""

    def __init__(self, connection: GraphConnection, stale: AccessToken) -> None:
        super().__init__(connection)
        self.stale: AccessToken | None = stale

    def token(self) -> AccessToken:
        stale, self.stale = self.stale, None
        return stale or super().token()


@pytest.mark.slow
def test_an_expired_token_is_refreshed_once(make_emulator: MakeEmulator, tmp_path: Path) -> None:
    env = start(make_emulator, tmp_path, lifetime=2)
    with TokenProvider(env.connection()) as first:
        old = first.token()
    time.sleep(max(0.0, old.expires_on - time.time()) + 0.2)
    tokens = StaleFirst(env.connection(), old)
    with tokens, GraphClient(env.connection(), token_provider=tokens) as client:
        assert client.get_json("/organization")["value"]
        assert client.stats.requests == 2  # 401 with the stale token, then 200
        # With 2-second tokens the provider renews before expiry: no further 401s.
        deadline = time.monotonic() + 2.5
        while time.monotonic() < deadline:
            client.get_json("/organization")
            time.sleep(0.2)
        assert client.stats.retries == 1
