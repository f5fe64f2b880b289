"""Connection settings: cloud endpoints, derived URLs, credentials that never show secrets."""

from __future__ import annotations

import datetime as dt

import pytest

from licensewatch.emulator.certs import make_client_certificate, thumbprints
from licensewatch.graph.clouds import Cloud, is_public_authority_host
from licensewatch.graph.connection import (
    CertificateCredential,
    ClientSecretCredential,
    GraphConnection,
)

TENANT = "7505313b-5f50-4b8a-83b3-1eed634d6d65"
CLIENT = "1ddcf25b-8bb0-4a06-9b68-cd8f1b1f0068"


@pytest.mark.parametrize(
    ("cloud", "login", "graph"),
    [
        (Cloud.GLOBAL, "https://login.microsoftonline.com", "https://graph.microsoft.com"),
        (Cloud.USGOV, "https://login.microsoftonline.us", "https://graph.microsoft.us"),
        (Cloud.USGOV_DOD, "https://login.microsoftonline.us", "https://dod-graph.microsoft.us"),
        (
            Cloud.CHINA,
            "https://login.partner.microsoftonline.cn",
            "https://microsoftgraph.chinacloudapi.cn",
        ),
    ],
)
def test_cloud_endpoints(cloud: Cloud, login: str, graph: str) -> None:
    conn = GraphConnection(TENANT, CLIENT, ClientSecretCredential("s"), cloud=cloud)
    assert (cloud.authority_host, cloud.graph_endpoint) == (login, graph)
    assert conn.authority_url == f"{login}/{TENANT}"
    assert conn.graph_base == f"{graph}/v1.0"
    assert conn.scope == f"{graph}/.default"
    assert is_public_authority_host(conn.authority_url)


def test_custom_endpoints_override_the_cloud() -> None:
    conn = GraphConnection(
        "contoso.onmicrosoft.com",
        CLIENT,
        ClientSecretCredential("s"),
        authority_host="https://127.0.0.1:8443/",
        graph_endpoint="https://127.0.0.1:8443",
    )
    assert conn.authority_url == "https://127.0.0.1:8443/contoso.onmicrosoft.com"
    assert conn.graph_base == "https://127.0.0.1:8443/v1.0"
    assert conn.scope == "https://graph.microsoft.com/.default"  # the audience stays Graph's
    assert not is_public_authority_host(conn.authority_url)
    assert Cloud("usgov-dod") is Cloud.USGOV_DOD


@pytest.mark.parametrize("tenant", ["common", "Organizations", "consumers", "", "a/b", "a b"])
def test_tenants_msal_cannot_use_are_refused(tenant: str) -> None:
    with pytest.raises(ValueError, match="tenant"):
        GraphConnection(tenant, CLIENT, ClientSecretCredential("s"))


def test_secret_is_never_in_repr() -> None:
    secret = "abC8Q~very-secret-value-0123456789abcdef"
    conn = GraphConnection(TENANT, CLIENT, ClientSecretCredential(secret))
    assert secret not in repr(conn)
    assert secret not in repr(conn.credential)
    assert secret not in str(conn)


def test_certificate_thumbprint_and_hidden_key() -> None:
    pair = make_client_certificate("app", dt.datetime.now(dt.UTC) + dt.timedelta(days=30))
    credential = CertificateCredential(pair.private_key_pem, pair.certificate_pem)
    sha1, _ = thumbprints(pair.certificate_pem)
    assert credential.thumbprint_sha1 == sha1 == sha1.upper()
    assert len(sha1) == 40
    assert "PRIVATE KEY" not in repr(credential)
    assert sha1 in repr(credential)
