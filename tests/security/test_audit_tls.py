"""TLS verification is always on: wrong CA or wrong host refused; no variable switches it off."""

from __future__ import annotations

import dataclasses
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

from emulator_fixtures import EmulatorFactory, connect
from licensewatch.emulator import certs
from licensewatch.graph.auth import AccessToken, AuthError, AuthFailure, TokenProvider
from licensewatch.graph.client import GraphClient
from licensewatch.graph.connection import ClientSecretCredential, GraphConnection
from licensewatch.graph.errors import GraphUnavailableError
from licensewatch.graph.http import ssl_context
from licensewatch.graph.retry import RetryPolicy
from reliability_support import environment

TENANT = "0b8f3a4e-5c6d-4e7f-8a9b-0c1d2e3f4a5b"
CLIENT = "11111111-2222-4333-8444-555555555555"
# Every variable known to change TLS trust or verification in Python, requests, curl or OpenSSL.
TRUST_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR")


class FixedToken(TokenProvider):
    """A token without Entra: isolates the Graph path's own TLS check."""

    def token(self) -> AccessToken:
        return AccessToken("not-a-real-token", time.time() + 3600, frozenset(), TENANT, CLIENT)


@contextmanager
def tls_server(folder: Path, host_in_certificate: str) -> Iterator[tuple[str, Path]]:
    """A TLS listener on 127.0.0.1 whose certificate (from a CA we trust) names another host."""
    ca = certs.make_ca("audit CA")
    pair = certs.make_server_certificate(ca, (host_in_certificate,))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ca.pem").write_bytes(ca.certificate_pem)
    (folder / "server.pem").write_bytes(pair.certificate_pem + pair.private_key_pem)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "server.pem")
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                raw, _ = listener.accept()
            except TimeoutError:
                continue
            with suppress(OSError), context.wrap_socket(raw, server_side=True) as tls:
                tls.recv(1)  # the client refuses during the handshake
            raw.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{listener.getsockname()[1]}", folder / "ca.pem"
    finally:
        stop.set()
        thread.join()
        listener.close()


def _connection(base: str, ca_bundle: str | None) -> GraphConnection:
    return GraphConnection(
        tenant=TENANT,
        client_id=CLIENT,
        credential=ClientSecretCredential("abC8Q~not.a.real.secret"),
        authority_host=base,
        graph_endpoint=base,
        ca_bundle=ca_bundle,
    )


def _refused_by_both_paths(connection: GraphConnection) -> None:
    with TokenProvider(connection) as tokens, pytest.raises(AuthError) as caught:
        tokens.token()
    assert caught.value.kind is AuthFailure.TLS
    policy = RetryPolicy(max_attempts=3, sleep=lambda _s: None)
    client = GraphClient(connection, token_provider=FixedToken(connection), retry=policy)
    with client, pytest.raises(GraphUnavailableError, match="TLS certificate verification"):
        client.get_json("/organization")
    assert client.stats.retries == 0  # a trust failure is never retried into success


def test_a_certificate_for_another_host_is_refused(tmp_path: Path) -> None:
    with tls_server(tmp_path, "graph.other.example") as (base, ca_bundle):
        _refused_by_both_paths(_connection(base, str(ca_bundle)))


def test_variables_cannot_add_trust(make_emulator: EmulatorFactory) -> None:
    emulator = make_emulator(users=5)
    tenant = next(iter(emulator.world.tenants.values()))
    untrusted = dataclasses.replace(connect(emulator, tenant), ca_bundle=None)  # public CAs
    emulator_ca = str(emulator.ca_bundle)
    with environment(**dict.fromkeys(TRUST_VARIABLES, emulator_ca)):
        _refused_by_both_paths(untrusted)  # the emulator CA only counts when configured


def test_variables_cannot_break_or_replace_configured_trust(
    make_emulator: EmulatorFactory, tmp_path: Path
) -> None:
    emulator = make_emulator(users=5)
    tenant = next(iter(emulator.world.tenants.values()))
    elsewhere = tmp_path / "elsewhere.pem"
    elsewhere.write_bytes(certs.make_ca("someone else").certificate_pem)
    variables = dict.fromkeys(TRUST_VARIABLES, str(elsewhere))
    with environment(**variables, PYTHONHTTPSVERIFY="0", HTTPX_SSL_VERIFY="0"):
        with TokenProvider(connect(emulator, tenant)) as tokens:
            assert tokens.token().tenant_id == tenant.tenant_id
        with tls_server(tmp_path / "other", "graph.other.example") as (base, ca_bundle):
            _refused_by_both_paths(_connection(base, str(ca_bundle)))


def test_every_context_verifies_host_and_chain(tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_bytes(certs.make_ca().certificate_pem)
    for context in (ssl_context(None), ssl_context(str(bundle))):
        assert context.verify_mode == ssl.CERT_REQUIRED
        assert context.check_hostname is True
        assert context.minimum_version >= ssl.TLSVersion.TLSv1_2
