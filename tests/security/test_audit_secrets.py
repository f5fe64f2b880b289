"""Leak audit: a real flow at DEBUG, then grep database, logs, outputs, API, pages and exports."""

from __future__ import annotations

import io
import logging
import os
import re
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from emulator_fixtures import EmulatorFactory
from licensewatch.logging_setup import configure_logging
from licensewatch.security.crypto import load_keyring
from licensewatch.services.accounts import authenticate, create_account, create_token
from licensewatch.services.sessions import start_session
from licensewatch.services.tenants import TenantService
from licensewatch.settings import Settings
from licensewatch.storage.database import make_engine
from licensewatch.storage.models.accounts import Role
from licensewatch.sync.runner import run_sync
from web_server import serve_in_thread

EXECUTABLE = Path(sys.executable).parent / "licensewatch"
JWT = re.compile(rb"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+")
PASSWORD = "correct horse battery staple 42"
API = ("tenants", "tenants/sec", "tenants/crt", "balance", "sync-runs", "users", "subscriptions")
API_PATHS = (*(f"/api/v1/{path}" for path in API), "/api/openapi.json")
PAGES = ("/", "/tenants", "/tenants/sec", "/tenants/crt", "/sync", "/users", "/renewals", "/me")
LIBRARIES = ("httpx", "httpcore", "msal", "urllib3", "licensewatch")


class Audit:
    """Collects everything an attacker or an over-sharing admin could read."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.texts: dict[str, bytes] = {}

    def cli(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LICENSEWATCH_")}
        env |= {"LICENSEWATCH_HOME": str(self.home), "LICENSEWATCH_LOG_LEVEL": "DEBUG"}
        result = subprocess.run(
            [str(EXECUTABLE), *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
        assert "Traceback" not in result.stderr, result.stderr
        self.texts[f"cli {' '.join(args)}"] = (result.stdout + result.stderr).encode()
        return result

    def add(self, what: str, data: bytes) -> None:
        if data[:2] == b"PK":  # xlsx: grep the XML inside, not the compressed bytes
            with zipfile.ZipFile(io.BytesIO(data)) as book:
                data = b"".join(book.read(name) for name in book.namelist())
        self.texts[what] = data

    def database(self) -> bytes:
        return b"".join(p.read_bytes() for p in sorted(self.home.glob("licensewatch.db*")))


@pytest.fixture
def web_log() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    chatty = {name: logging.getLogger(name).level for name in LIBRARIES}
    handler = configure_logging(Settings(log_level="DEBUG"), stream, level="DEBUG")
    for name in LIBRARIES:  # every library at DEBUG too (the product quiets them by default)
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.handlers[:], root.level = saved[0], saved[1]
        for name, level in chatty.items():
            logging.getLogger(name).setLevel(level)


@pytest.mark.slow
def test_no_secret_key_or_token_leaks_anywhere(
    make_emulator: EmulatorFactory, tmp_path: Path, web_log: io.StringIO
) -> None:
    emulator = make_emulator(users=30, seed=41)
    info = emulator.info
    tenant = info["tenants"][0]
    secret, key_path = tenant["client_secret"], Path(tenant["private_key"])
    home = tmp_path / "home"
    audit = Audit(home)
    endpoints = ["--authority-host", info["authority_host"], "--graph-endpoint"]
    endpoints += [info["graph_endpoint"], "--ca-bundle", info["ca_bundle"]]
    ids = ["--tenant-id", tenant["tenant_id"], "--client-id", tenant["client_id"]]
    added = audit.cli(
        "tenant", "add", "sec", *ids, *endpoints, "--client-secret-stdin", stdin=secret
    )
    assert added.returncode == 0, added.stderr
    certificate = ["--certificate", tenant["certificate"], "--private-key", str(key_path)]
    added = audit.cli("tenant", "add", "crt", *ids, *endpoints, *certificate)
    assert added.returncode == 0, added.stderr
    old_key = (home / "secret.key").read_bytes().strip()
    for name in ("sec", "crt"):
        assert audit.cli("tenant", "test", name).returncode == 0
        audit.cli("tenant", "test", name, "--format", "json")
        audit.cli("tenant", "show", name, "--format", "json")
    assert audit.cli("sync", "--all").returncode == 0
    for fmt in ("table", "json", "csv"):
        assert audit.cli("balance", "--format", fmt).returncode == 0
    audit.cli("tenant", "list", "--format", "json")
    assert audit.cli("key", "rotate").returncode == 0
    assert audit.cli("sync", "crt").returncode == 0  # still opens the rotated credentials
    settings = Settings(home=home, log_level="DEBUG")
    engine = make_engine(settings.database_url)
    service = TenantService(engine, load_keyring(settings))
    for name in ("sec", "crt"):  # in-process, every logger at DEBUG into the product's handler
        result = run_sync(engine, service.show(name).id, service.connection_for(name))
        assert result.ok, result.error_message
    audit.cli("tenant", "update", "sec", "--client-secret-stdin", stdin="wrong~" + secret[::-1])
    audit.cli("tenant", "test", "sec")  # a failing sign-in: Entra's error must not echo it
    new_key = (home / "secret.key").read_bytes().strip()
    from licensewatch.web.app import create_app

    create_account(engine, "auditor", Role.ADMIN, PASSWORD)
    token = create_token(engine, "auditor", "audit")
    principal = authenticate(engine, "auditor", PASSWORD)
    assert principal is not None
    with (
        serve_in_thread(create_app(settings, engine=engine)) as base,
        httpx.Client(base_url=base) as web,
    ):
        api = {"Authorization": f"Bearer {token}"}
        for path in API_PATHS:
            response = web.get(path, headers=api)
            assert response.status_code == 200, (path, response.text)
            audit.add(f"api {path}", response.content)
        web.cookies.set("lw_session", start_session(engine, principal))
        for path in PAGES:
            response = web.get(path)
            assert response.status_code == 200, (path, response.status_code)
            audit.add(f"page {path}", response.content)
        for dataset in ("balance", "users", "subscriptions"):
            for fmt in ("csv", "xlsx"):
                response = web.get(f"/exports/{dataset}.{fmt}")
                assert response.status_code == 200, (dataset, fmt)
                audit.add(f"export {dataset}.{fmt}", response.content)
    engine.dispose()
    audit.add("web log", web_log.getvalue().encode())

    key_lines = [line for line in key_path.read_bytes().splitlines() if len(line) >= 40]
    forbidden = {"client secret": secret.encode(), "Fernet key": old_key, "new Fernet key": new_key}
    forbidden |= {f"private key line {n}": line for n, line in enumerate(key_lines)}
    audit.texts["database + WAL"] = audit.database()
    assert tenant["client_id"].encode() in audit.texts["database + WAL"]  # it is the right file
    assert b"DEBUG httpcore" in audit.texts["web log"]  # DEBUG logging really was on
    leaks = [
        f"{label} in {where}"
        for where, text in audit.texts.items()
        for label, value in forbidden.items()
        if value in text
    ]
    leaks += [
        f"an access token (JWT) in {where}"
        for where, text in audit.texts.items()
        if JWT.search(text)
    ]
    leaks += [
        f"a PEM private key in {w}" for w, t in audit.texts.items() if b"PRIVATE KEY-----\n" in t
    ]
    assert leaks == []
