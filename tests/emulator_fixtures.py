"""Fixtures that run the emulator over TLS (owned by the emulator area)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pytest
from starlette.applications import Starlette

from licensewatch.emulator import certs
from licensewatch.emulator.apps import App, ClientCertificate, ClientSecret
from licensewatch.emulator.auth_routes import auth_routes
from licensewatch.emulator.faults import FaultInjector
from licensewatch.emulator.options import EmulatorOptions
from licensewatch.emulator.seed import build_world
from licensewatch.emulator.server import RunningEmulator, start_in_thread
from licensewatch.emulator.state import Tenant, World, utcnow
from licensewatch.emulator.tokens import TokenIssuer
from licensewatch.graph.connection import ClientSecretCredential, GraphConnection

GRAPH_SCOPE = "https://graph.microsoft.com/.default"


class EmulatorFactory(Protocol):
    """Starts an emulator (stopped at the end of the test): a given world, or one built by seed."""

    def __call__(
        self,
        world: World | None = None,
        *,
        options: EmulatorOptions | None = None,
        tenants: int = 1,
        users: int = 20,
        seed: int = 7,
        scenario: str = "small-office",
        token_lifetime_seconds: int = 3599,
        app: Starlette | None = None,
    ) -> RunningEmulator: ...


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    """The whole emulator over a small messy world (3 tenants × 40 users), shared by the session."""
    cert_dir = tmp_path_factory.mktemp("emulator")
    world = build_world(tenants=3, users=40, seed=7, scenario="messy", cert_dir=cert_dir)
    with start_in_thread(world, EmulatorOptions(), cert_dir=cert_dir) as running:
        yield running


@pytest.fixture
def make_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorFactory]:
    started: list[RunningEmulator] = []

    def start(
        world: World | None = None,
        *,
        options: EmulatorOptions | None = None,
        tenants: int = 1,
        users: int = 20,
        seed: int = 7,
        scenario: str = "small-office",
        token_lifetime_seconds: int = 3599,
        app: Starlette | None = None,
    ) -> RunningEmulator:
        cert_dir = tmp_path_factory.mktemp("emulator")
        if world is None:
            world = build_world(
                tenants=tenants,
                users=users,
                seed=seed,
                scenario=scenario,
                cert_dir=cert_dir,
                token_lifetime_seconds=token_lifetime_seconds,
            )
        running = start_in_thread(world, options, cert_dir=cert_dir, app=app)
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()


# ---- a hand-made world for the Entra tests: every credential case in one tenant ----------------


@dataclass(frozen=True)
class CertFiles:
    """A client certificate and its key on disk, as an admin keeps them after uploading the cert."""

    certificate_pem: bytes
    private_key_pem: bytes
    thumbprint_sha1: str
    thumbprint_sha256: str
    certificate_path: Path
    private_key_path: Path


@dataclass(frozen=True)
class AuthWorld:
    world: World
    tenant: Tenant
    other: Tenant  # a second tenant: its app is unknown in `tenant`
    app: App  # consented; two live secrets, one expired; one live certificate, one expired
    unconsented: App  # a live secret, no admin consent (tokens without `roles`)
    secret: str
    second_secret: str
    expired_secret: str
    certificate: CertFiles
    expired_certificate: CertFiles
    unregistered: CertFiles  # never uploaded to the app


def make_cert_files(folder: Path, name: str, not_after: dt.datetime) -> CertFiles:
    pair = certs.make_client_certificate(name, not_after)
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / f"{name}.pem", folder / f"{name}.key"
    cert_path.write_bytes(pair.certificate_pem)
    key_path.write_bytes(pair.private_key_pem)
    sha1, sha256 = certs.thumbprints(pair.certificate_pem)
    return CertFiles(pair.certificate_pem, pair.private_key_pem, sha1, sha256, cert_path, key_path)


def register(app: App, files: CertFiles, expires: dt.datetime) -> None:
    app.certificates.append(
        ClientCertificate(
            files.thumbprint_sha1,
            files.thumbprint_sha256,
            files.certificate_pem,
            b"",
            expires,
            str(files.certificate_path),
            str(files.private_key_path),
        )
    )


def build_auth_world(folder: Path, token_lifetime_seconds: int = 3599) -> AuthWorld:
    now = utcnow()
    world = World(token_lifetime_seconds=token_lifetime_seconds)
    tenant = world.add_tenant(
        Tenant("0b8f3a4e-5c6d-4e7f-8a9b-0c1d2e3f4a5b", "contoso.onmicrosoft.com", "Contoso Ltd")
    )
    other = world.add_tenant(
        Tenant("9e8d7c6b-5a49-4382-9170-6f5e4d3c2b1a", "fabrikam.onmicrosoft.com", "Fabrikam Ltd")
    )
    year, past = now + dt.timedelta(days=365), now - dt.timedelta(days=30)
    app = App("11111111-2222-4333-8444-555555555555", "collector", roles={"User.Read.All"})
    app.roles.add("Organization.Read.All")
    app.secrets += [
        ClientSecret(
            "aaaaaaaa-0000-4000-8000-000000000001", "abC8Q~first+secret/value=", "a", year
        ),
        ClientSecret(
            "aaaaaaaa-0000-4000-8000-000000000002", "deF9Q~second.secret_value", "b", year
        ),
        ClientSecret(
            "aaaaaaaa-0000-4000-8000-000000000003", "ghI0Q~expired.secret.value", "c", past
        ),
    ]
    certificate = make_cert_files(folder, "live", now + dt.timedelta(days=365))
    expired = make_cert_files(folder, "expired", now + dt.timedelta(days=365))
    unregistered = make_cert_files(folder, "unregistered", now + dt.timedelta(days=365))
    register(app, certificate, year)
    register(app, expired, past)  # Entra's key credential has expired, whatever the X.509 says
    tenant.apps[app.client_id] = app
    unconsented = App("66666666-7777-4888-8999-000000000000", "no consent")
    unconsented.secrets.append(ClientSecret("b0000000-0000-4000-8000-000000000001", "x", "x", year))
    tenant.apps[unconsented.client_id] = unconsented
    stranger = App("22222222-3333-4444-8555-666666666666", "elsewhere")
    other.apps[stranger.client_id] = stranger
    return AuthWorld(
        world,
        tenant,
        other,
        app,
        unconsented,
        app.secrets[0].value,
        app.secrets[1].value,
        app.secrets[2].value,
        certificate,
        expired,
        unregistered,
    )


def auth_app(
    world: World, issuer: TokenIssuer | None = None, injector: FaultInjector | None = None
) -> Starlette:
    """Only the Entra routes (tests of the token endpoint need no Graph)."""
    issuer = issuer or TokenIssuer(world)
    injector = injector or FaultInjector(EmulatorOptions())
    app = Starlette(routes=auth_routes(world, issuer, injector))
    app.state.issuer = issuer
    app.state.injector = injector
    return app


@dataclass(frozen=True)
class AuthEmulator:
    running: RunningEmulator
    auth: AuthWorld
    issuer: TokenIssuer

    @property
    def base_url(self) -> str:
        return self.running.base_url


@pytest.fixture(scope="session")
def auth_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthEmulator]:
    folder = tmp_path_factory.mktemp("auth")
    auth = build_auth_world(folder / "clients")
    issuer = TokenIssuer(auth.world)
    app = auth_app(auth.world, issuer)
    with start_in_thread(auth.world, cert_dir=folder / "tls", app=app) as running:
        yield AuthEmulator(running, auth, issuer)


def connect(emulator: RunningEmulator, tenant: Tenant) -> GraphConnection:
    """A GraphConnection to one of the emulator's tenants, with its valid client secret."""
    info = next(t for t in emulator.info["tenants"] if t["tenant_id"] == tenant.tenant_id)
    return GraphConnection(
        tenant=tenant.tenant_id,
        client_id=info["client_id"],
        credential=ClientSecretCredential(info["client_secret"]),
        authority_host=emulator.base_url,
        graph_endpoint=emulator.base_url,
        ca_bundle=str(emulator.ca_bundle),
    )
