"""`licensewatch serve --workers 2` on a real SQLite file: any worker answers, limits hold once.

Each check restarts the workers (SIGHUP: uvicorn replaces every worker process) between the
steps, so state kept in one process's memory would be lost and the check would fail.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from test_sign_in_serve_process import EXECUTABLE, PASSWORD, _env, _free_port, _login, _run

from emulator_fixtures import EmulatorFactory
from web_fixtures import CSRF_INPUT


@dataclass
class Served:
    base: str
    process: subprocess.Popen[str]
    errors: str = ""


def workers_of(pid: int) -> set[int]:
    """The uvicorn worker processes (spawned children) of the serve process."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        if parent == pid and b"spawn_main" in command:
            found.add(int(entry.name))
    return found


def _wait_healthy(served: Served, deadline: float) -> None:
    while True:
        try:
            if httpx.get(served.base + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert served.process.poll() is None, served.process.communicate()[1]
        assert time.monotonic() < deadline, "serve did not start"
        time.sleep(0.2)


def restart_workers(served: Served) -> None:
    """SIGHUP: every worker is replaced by a new process; returns when two new ones serve."""
    before = workers_of(served.process.pid)
    assert len(before) == 2, before
    served.process.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 90
    while True:
        now = workers_of(served.process.pid)
        if len(now) == 2 and not now & before:
            break
        assert time.monotonic() < deadline, f"workers not replaced: {before} -> {now}"
        time.sleep(0.2)
    _wait_healthy(served, deadline)


@contextmanager
def serving(home: Path, *args: str, **settings: str) -> Iterator[Served]:
    port = _free_port()
    process = subprocess.Popen(
        [str(EXECUTABLE), "serve", "--port", str(port), "--workers", "2", *args],
        env=_env(home, **settings), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    served = Served(f"http://127.0.0.1:{port}", process)
    try:
        _wait_healthy(served, time.monotonic() + 90)
        deadline = time.monotonic() + 60
        while len(workers_of(process.pid)) != 2:
            assert time.monotonic() < deadline, "two workers did not start"
            time.sleep(0.2)
        yield served
    finally:
        process.send_signal(signal.SIGINT)
        try:
            _, served.errors = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            _, served.errors = process.communicate()
    assert "Traceback" not in served.errors, served.errors
    assert "database is locked" not in served.errors, served.errors


def test_a_session_signed_in_on_one_worker_is_valid_on_the_next(tmp_path: Path) -> None:
    home = tmp_path / "home"
    created = _run(home, "user", "create", "alice", "--admin", "--password-stdin", stdin=PASSWORD)
    assert created.returncode == 0, created.stderr
    with serving(home) as served, httpx.Client(base_url=served.base, timeout=60) as client:
        found = CSRF_INPUT.search(client.get("/login").text)
        assert found is not None
        restart_workers(served)  # the sign-in form's CSRF pair is checked by another process
        data = {"username": "alice", "password": PASSWORD, "csrf_token": found.group(1)}
        assert client.post("/login", data=data, follow_redirects=False).status_code == 303
        restart_workers(served)  # none of the processes that saw the sign-in is left
        page = client.get("/", follow_redirects=False)
        assert page.status_code == 200, page.text
        csrf = CSRF_INPUT.search(page.text)
        assert csrf is not None
        # Fresh connections land on either worker: every one knows the session.
        for _ in range(10):
            response = httpx.get(
                served.base + "/api/v1/tenants", cookies=client.cookies, timeout=60
            )
            assert response.status_code == 200, response.text
        restart_workers(served)
        out = client.post("/logout", data={"csrf_token": csrf.group(1)}, follow_redirects=False)
        assert out.status_code == 303
        assert client.get("/", follow_redirects=False).status_code in (302, 303, 307)


def test_the_sign_in_limit_is_not_multiplied_by_the_workers(tmp_path: Path) -> None:
    home = tmp_path / "home"
    created = _run(home, "user", "create", "alice", "--password-stdin", stdin=PASSWORD)
    assert created.returncode == 0, created.stderr
    # Per account and source: 5 failures in 15 minutes (the default); the others out of the way.
    limits = {"sign_in_limit_account": "1000", "sign_in_limit_source": "1000"}
    with serving(home, **limits) as served:
        assert [_login(served.base, "alice", "wrong password!") for _ in range(3)] == [401] * 3
        restart_workers(served)
        assert [_login(served.base, "alice", "wrong password!") for _ in range(2)] == [401] * 2
        restart_workers(served)
        # Five failures counted across three generations of workers: even the right password
        # is refused now.
        assert _login(served.base, "alice", PASSWORD) == 429
        # A burst on fresh connections (both workers answer): exactly five checked, one limit.
        with ThreadPoolExecutor(8) as pool:
            codes = list(pool.map(lambda _: _login(served.base, "bob", "wrong pw!"), range(16)))
    assert sorted(codes) == [401] * 5 + [429] * 11, codes


def test_with_daemon_runs_one_daemon_for_all_workers(
    make_emulator: EmulatorFactory, tmp_path: Path
) -> None:
    emulator = make_emulator(users=50, seed=7)
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
    with serving(home, "--with-daemon", log_level="INFO") as served:
        deadline = time.monotonic() + 120
        while not (runs := _runs(home)) or runs[0][0] != "COMPLETED":
            assert time.monotonic() < deadline, runs
            time.sleep(0.5)
        restart_workers(served)  # new workers must not start a daemon either
        time.sleep(2)
        runs = _runs(home)
    # One sync, run by the serving process itself (the daemon is its thread, not a worker's).
    assert [(status, worker.rsplit(":", 1)[1]) for status, worker in runs] == [
        ("COMPLETED", str(served.process.pid))
    ]
    started = [
        line for line in served.errors.splitlines() if "daemon" in line and "started" in line
    ]
    assert len(started) == 1, served.errors


def _runs(home: Path) -> list[tuple[str, str]]:
    with closing(sqlite3.connect(home / "licensewatch.db")) as db:
        return [(str(s), str(w)) for s, w in db.execute("SELECT status, worker FROM sync_runs")]
