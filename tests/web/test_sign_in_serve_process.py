"""Sign-ins against a real `licensewatch serve` on SQLite: no lock held while hashing, no 500s."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx

from emulator_fixtures import EmulatorFactory
from web_fixtures import CSRF_INPUT

EXECUTABLE = Path(sys.executable).parent / "licensewatch"
PASSWORD = "alice-password-123456"


def _env(home: Path, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LICENSEWATCH_")}
    env["LICENSEWATCH_HOME"] = str(home)
    env.update({f"LICENSEWATCH_{key.upper()}": value for key, value in settings.items()})
    return env


def _run(home: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(EXECUTABLE), *args], input=stdin, capture_output=True, text=True,
        env=_env(home), timeout=300, check=False,
    )  # fmt: skip
    assert "Traceback" not in result.stderr, result.stderr
    return result


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serving(home: Path, **settings: str) -> Iterator[str]:
    """`licensewatch serve` in its own process; yields its base URL."""
    port = _free_port()
    process = subprocess.Popen(
        [str(EXECUTABLE), "serve", "--port", str(port)],
        env=_env(home, **settings), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, process.communicate()[1]
            assert time.monotonic() < deadline, "serve did not start"
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        _, errors = process.communicate(timeout=30)
        assert "database is locked" not in errors, errors


def _login(base: str, username: str, password: str, forwarded_for: str | None = None) -> int:
    headers = {"x-forwarded-for": forwarded_for} if forwarded_for else {}
    with httpx.Client(base_url=base, headers=headers, timeout=300) as client:
        found = CSRF_INPUT.search(client.get("/login").text)
        assert found is not None
        data = {"username": username, "password": password, "csrf_token": found.group(1)}
        return client.post("/login", data=data, follow_redirects=False).status_code


def test_parallel_anonymous_sign_ins_neither_fail_nor_block_a_sync(
    make_emulator: EmulatorFactory, tmp_path: Path
) -> None:
    emulator = make_emulator(users=300, seed=5)
    info = emulator.info
    tenant = info["tenants"][0]
    home = tmp_path / "home"
    added = _run(
        home, "tenant", "add", "contoso", "--tenant-id", tenant["tenant_id"],
        "--client-id", tenant["client_id"], "--client-secret-stdin",
        "--authority-host", info["authority_host"], "--graph-endpoint", info["graph_endpoint"],
        "--ca-bundle", info["ca_bundle"], stdin=tenant["client_secret"] + "\n",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    created = _run(home, "user", "create", "alice", "--admin", "--password-stdin", stdin=PASSWORD)
    assert created.returncode == 0, created.stderr
    # Limits out of the way: every one of these sign-ins really checks a password.
    limits = {"sign_in_limit_source": "1000", "sign_in_limit_account_source": "1000",
              "sign_in_limit_account": "1000", "sign_in_limit_total": "1000"}  # fmt: skip
    with serving(home, **limits) as base, ThreadPoolExecutor(64) as pool:
        logins = [pool.submit(_login, base, f"nobody{i}", "Autumn2026!!") for i in range(64)]
        logins.append(pool.submit(_login, base, "alice", PASSWORD))
        time.sleep(1)  # the checks are running when the sync starts writing
        synced = _run(home, "sync", "--all")
        codes = [login.result() for login in logins]
    assert synced.returncode == 0, synced.stderr
    assert 500 not in codes
    assert codes[:-1] == [401] * 64
    assert codes[-1] == 303


def test_a_real_serve_believes_no_x_forwarded_for_by_default(tmp_path: Path) -> None:
    home = tmp_path / "home"
    created = _run(home, "user", "create", "alice", "--password-stdin", stdin=PASSWORD)
    assert created.returncode == 0, created.stderr
    with serving(home) as base:
        for index in range(5):
            assert _login(base, "alice", "wrong password!", f"203.0.113.{index}") == 401
        assert _login(base, "alice", PASSWORD, "198.51.100.1") == 429
