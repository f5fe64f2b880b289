"""W5: dashboard and REST API under 20 concurrent clients on a synced 300k-user tenant."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks.config import Config
from benchmarks.databases import sqlite_database
from benchmarks.emulator import EmulatorProcess
from benchmarks.measure import run_child
from benchmarks.report import Target, Workload
from benchmarks.webload import hammer, percentile

CLIENTS = 20
USERNAME = "bench"
COLUMNS = [
    "endpoint", "requests", "errors",
    "server p50 ms", "server p95 ms", "server p99 ms",
    "client p50 ms", "client p95 ms", "client p99 ms",
]  # fmt: skip
ENDPOINTS = (
    ("page /", "/", True),
    ("page /users", "/users?tenant=bench", True),
    ("page /tenants/bench", "/tenants/bench", True),
    ("API /api/v1/balance", "/api/v1/balance", False),
    ("API /api/v1/users", "/api/v1/users?tenant=bench&limit=50&offset=1000", False),
    ("API /api/v1/users search", "/api/v1/users?tenant=bench&search=anna&limit=50", False),
    ("API /api/v1/tenants", "/api/v1/tenants", False),
    ("API /api/v1/subscriptions", "/api/v1/subscriptions", False),
)


def _cli(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "licensewatch", *args],
        env=env, input=stdin, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"licensewatch {args[0]} failed: {done.stderr[-800:]}")
    return done.stdout


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _serve(env: dict[str, str], folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    log = (folder / "serve.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "licensewatch", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        if process.poll() is not None:
            raise RuntimeError(f"serve exited: {(folder / 'serve.log').read_text()[-800:]}")
        try:
            if httpx.get(f"{base}/login", timeout=2).status_code == 200:
                return process, base
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    process.terminate()
    raise RuntimeError("the web app did not start")


def run(config: Config) -> Workload:
    work = Workload("W5", f"web app under {CLIENTS} concurrent clients", columns=COLUMNS)
    size = max(config.sizes)
    seconds = 5.0 if config.quick else 30.0
    folder = config.workdir / "w5"
    folder.mkdir(exist_ok=True)
    emulator = EmulatorProcess(users=size, seed=config.seed, workdir=config.workdir)
    with emulator, sqlite_database(folder) as url:
        run_child("sync", {"connection": emulator.connection_spec(), "db_url": url})
        env = {**os.environ, "LICENSEWATCH_DATABASE_URL": url}
        env["LICENSEWATCH_HOME"] = str(folder / "home")
        password = secrets.token_urlsafe(18)
        _cli(env, "user", "create", USERNAME, "--admin", "--password-stdin", stdin=password)
        token = _cli(env, "token", "create", USERNAME).strip().splitlines()[-1].strip()
        process, base = _serve(env, folder)
        try:
            samples = hammer(
                base, ENDPOINTS, clients=CLIENTS, seconds=seconds, token=token,
                username=USERNAME, password=password,
            )  # fmt: skip
        finally:
            process.terminate()
            process.wait(30)
    every_client: list[float] = []
    every_server: list[float] = []
    for label, _, _ in ENDPOINTS:
        client, server = samples.latencies.get(label, []), samples.server.get(label, [])
        every_client += client
        every_server += server
        work.rows.append(_row(label, client, server, samples.errors.get(label, 0)))
    work.rows.append(_row("all", every_client, every_server, sum(samples.errors.values())))
    rate = samples.requests / samples.seconds if samples.seconds else 0.0
    client_share = samples.client_cpu / samples.seconds if samples.seconds else 0.0
    work.notes.append(
        f"{size:,}-user tenant in SQLite; {CLIENTS} clients on one asyncio loop in their own "
        f"process, {samples.seconds:.0f} s of load: {samples.requests:,} requests, "
        f"{rate:,.0f} requests/s; the load generator used {client_share:.0%} of one core"
    )
    work.notes.append(
        "server = the app's `Server-Timing: app;dur=` (arrival in the app to response start); "
        "client = what the client waited (server time, queueing in the server process and "
        "loopback); pages signed in with a session, the API with a token"
    )
    work.targets = [
        Target("server p95 ms over all requests", work.rows[-1]["server p95 ms"], 100),
        Target(
            "client p95 ms over all requests",
            work.rows[-1]["client p95 ms"],
            100,
            note="shown beside the issue's server-time target",
        ),
    ]
    if samples.errors:
        work.notes.append(f"non-200 answers: {samples.errors}")
    return work


def _row(label: str, client: list[float], server: list[float], errors: int) -> dict[str, Any]:
    def ms(values: list[float], q: float) -> float | None:
        return percentile(values, q) * 1000 if values else None

    return {
        "endpoint": label,
        "requests": len(client),
        "errors": errors,
        "server p50 ms": ms(server, 50),
        "server p95 ms": ms(server, 95),
        "server p99 ms": ms(server, 99),
        "client p50 ms": ms(client, 50),
        "client p95 ms": ms(client, 95),
        "client p99 ms": ms(client, 99),
    }
