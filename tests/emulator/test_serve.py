"""`licensewatch emulator serve` as a real process, plus the TLS material and info file it uses."""

from __future__ import annotations

import ipaddress
import json
import os
import signal
import ssl
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from typer.testing import CliRunner

from licensewatch.cli import app as cli_app
from licensewatch.emulator.server import RunningEmulator, ensure_tls, write_info_file

TENANT_KEYS = {
    "tenant_id",
    "domain",
    "client_id",
    "client_secret",
    "certificate",
    "private_key",
    "thumbprint",
    "users",
}


def wait_for(path: Path, proc: subprocess.Popen[str], timeout: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            info: dict[str, Any] = json.loads(path.read_text())
            return info
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"emulator exited with {proc.returncode}: {out}\n{err}")
        time.sleep(0.05)
    pytest.fail("the info file did not appear")


def check_info(info: dict[str, Any]) -> None:
    assert set(info) == {"authority_host", "graph_endpoint", "ca_bundle", "tenants"}
    assert info["authority_host"] == info["graph_endpoint"]
    assert info["authority_host"].startswith("https://127.0.0.1:")
    assert Path(info["ca_bundle"]).is_absolute()
    for tenant in info["tenants"]:
        assert set(tenant) == TENANT_KEYS
        assert Path(tenant["certificate"]).is_file()
        assert Path(tenant["private_key"]).is_file()
        assert len(tenant["thumbprint"]) == 40


@pytest.mark.slow
def test_serve_writes_info_then_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    info_file = tmp_path / "run" / "emulator.json"
    env = {k: v for k, v in os.environ.items() if k not in {"REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"}}
    args = ["--port", "0", "--info-file", str(info_file), "--tenants", "2", "--users", "15"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "licensewatch", "emulator", "serve", *args, "--seed", "3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        info = wait_for(info_file, proc)
        check_info(info)
        assert len(info["tenants"]) == 2
        assert [t["users"] for t in info["tenants"]] == [15, 15]
        assert (info_file.stat().st_mode & 0o777) == 0o600  # it holds a client secret
        assert (tmp_path / "run" / "emulator-certs" / "emulator-ca.pem").is_file()
        context = ssl.create_default_context(cafile=info["ca_bundle"])  # verified TLS, no bypass
        tenant = info["tenants"][0]
        with httpx.Client(base_url=info["authority_host"], verify=context, trust_env=False) as c:
            discovery = c.get(f"/{tenant['domain']}/v2.0/.well-known/openid-configuration")
            assert discovery.json()["token_endpoint"].endswith(
                f"/{tenant['tenant_id']}/oauth2/v2.0/token"
            )
            form = {
                "grant_type": "client_credentials",
                "client_id": tenant["client_id"],
                "client_secret": tenant["client_secret"],
                "scope": "https://graph.microsoft.com/.default",
            }
            token = c.post(f"/{tenant['tenant_id']}/oauth2/v2.0/token", data=form)
            assert token.status_code == 200, token.text
            bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
            users = c.get("/v1.0/users", params={"$top": "5"}, headers=bearer)
            assert users.status_code == 200, users.text
            assert len(users.json()["value"]) == 5
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "licensewatch emulator ready at https://127.0.0.1:" in out
    assert not info_file.exists()  # a stale file would point clients at a dead port


def test_serve_rejects_an_unknown_scenario(tmp_path: Path) -> None:
    args = ["emulator", "serve", "--info-file", str(tmp_path / "i.json"), "--scenario", "nope"]
    result = CliRunner().invoke(cli_app, args)
    assert result.exit_code == 2
    assert "unknown scenario" in result.output


def test_tls_material_is_made_once_and_reused(tmp_path: Path) -> None:
    first = ensure_tls(tmp_path, "127.0.0.1")
    pem = first.certfile.read_bytes()
    ca = x509.load_pem_x509_certificate(first.ca_bundle.read_bytes())
    cert = x509.load_pem_x509_certificate(pem)
    cert.verify_directly_issued_by(ca)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(san.get_values_for_type(x509.IPAddress)) == {
        ipaddress.ip_address("127.0.0.1"),
        ipaddress.ip_address("::1"),
    }
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    assert (first.keyfile.stat().st_mode & 0o777) == 0o600
    assert ensure_tls(tmp_path, "127.0.0.1").certfile.read_bytes() == pem  # reused
    other = ensure_tls(tmp_path, "emulator.test")  # a new host needs a new SAN, same CA
    assert other.certfile.read_bytes() != pem
    assert other.ca_bundle.read_bytes() == first.ca_bundle.read_bytes()


def test_info_file_is_replaced_atomically(tmp_path: Path) -> None:
    path = tmp_path / "info.json"
    write_info_file(path, {"a": 1})
    write_info_file(path, {"a": 2})
    assert json.loads(path.read_text()) == {"a": 2}
    assert [p.name for p in tmp_path.iterdir()] == ["info.json"]  # no temporary left behind


def test_session_emulator_serves_verified_tls(emulator: RunningEmulator) -> None:
    check_info(emulator.info)
    assert len(emulator.info["tenants"]) == 3
    tenant = emulator.info["tenants"][0]
    context = ssl.create_default_context(cafile=str(emulator.ca_bundle))
    with httpx.Client(base_url=emulator.base_url, verify=context, trust_env=False) as c:
        response = c.get(f"/{tenant['tenant_id']}/v2.0/.well-known/openid-configuration")
    assert response.status_code == 200
    with (
        httpx.Client(base_url=emulator.base_url, trust_env=False) as c,
        pytest.raises(httpx.ConnectError),
    ):
        c.get("/common/discovery/instance")  # the system trust store does not know our CA
