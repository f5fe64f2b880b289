"""Concurrent HTTP clients against the web app, in their own process: client and server times.

`hammer` runs `python -m benchmarks.webload SPEC` so the clients' CPU is not the server's: one
asyncio loop drives every client (each with its own connection, like a browser), which costs
far less CPU per request than a thread per client. Each answer's `Server-Timing: app;dur=` is
kept beside the latency the client saw, and the child reports its own CPU time so a reader can
tell whether the load generator, not the server, was the limit.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

PASSWORD = "bench-password-0123456789"  # noqa: S105 - a throw-away database's account
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
# `app;dur=12.3` anywhere in a Server-Timing header (parsed here, not imported from the app, so
# the same load generator can measure an older build that does not send the header).
_APP_DUR = re.compile(r"(?:^|,)\s*app\s*;(?:[^,]*;)?\s*dur=([0-9.]+)")


TIMEOUT = 120.0  # seconds a client waits for one answer


def server_ms(header: str | None) -> float | None:
    """The `app;dur=` milliseconds of a Server-Timing header, or None."""
    match = _APP_DUR.search(header or "")
    return float(match.group(1)) if match else None


@dataclass
class Samples:
    """Per endpoint label: client latencies and server times (seconds), and failures."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    server: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0  # the measured window
    client_cpu: float = 0.0  # CPU seconds of the load generator during the window

    def add(self, label: str, seconds: float, server: float | None, ok: bool) -> None:
        self.latencies.setdefault(label, []).append(seconds)
        if server is not None:
            self.server.setdefault(label, []).append(server)
        if not ok:
            self.errors[label] = self.errors.get(label, 0) + 1

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.latencies.values())


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


async def login(client: httpx.AsyncClient, username: str, password: str) -> None:
    """A browser-like sign-in: the form's CSRF token, then the session cookie."""
    form = await client.get("/login")
    match = _CSRF.search(form.text)
    if match is None:
        raise RuntimeError(f"no CSRF token on /login (HTTP {form.status_code})")
    data = {"username": username, "password": password, "csrf_token": match.group(1), "next": "/"}
    answer = await client.post("/login", data=data, follow_redirects=False)
    if answer.status_code != 303:
        raise RuntimeError(f"sign-in failed: HTTP {answer.status_code}")


async def _load(spec: dict[str, Any]) -> Samples:
    endpoints = [tuple(e) for e in spec["endpoints"]]
    clients, seconds = int(spec["clients"]), float(spec["seconds"])
    samples = Samples()
    bearer = {"Authorization": f"Bearer {spec['token']}"}
    http = [
        httpx.AsyncClient(base_url=spec["base_url"], timeout=TIMEOUT, trust_env=False)
        for _ in range(clients)
    ]
    try:
        # Sign-ins (argon2) before the clock starts, all at once so no connection idles past the
        # server's keep-alive timeout before the load begins.
        await asyncio.gather(*(login(c, spec["username"], spec["password"]) for c in http))
        if spec.get("rounds"):  # each endpoint alone: `rounds` requests in a row, one client
            cpu_before, started = time.process_time(), time.perf_counter()
            for label, path, page in endpoints:
                cap = time.perf_counter() + seconds
                for _ in range(int(spec["rounds"])):
                    await _one(http[0], samples, str(label), str(path), page, bearer)
                    if time.perf_counter() > cap:
                        break
            samples.seconds = time.perf_counter() - started
            samples.client_cpu = time.process_time() - cpu_before
            return samples
        deadline = time.perf_counter() + seconds

        async def worker(client: httpx.AsyncClient, offset: int) -> None:
            i = offset
            while time.perf_counter() < deadline:
                label, path, page = endpoints[i % len(endpoints)]
                await _one(client, samples, str(label), str(path), page, bearer)
                i += 1

        cpu_before, started = time.process_time(), time.perf_counter()
        await asyncio.gather(*(worker(c, n) for n, c in enumerate(http)))
        samples.seconds = time.perf_counter() - started
        samples.client_cpu = time.process_time() - cpu_before
    finally:
        for client in http:
            await client.aclose()
    return samples


async def _one(
    client: httpx.AsyncClient,
    samples: Samples,
    label: str,
    path: str,
    page: Any,
    bearer: dict[str, str],
) -> None:
    began = time.perf_counter()
    try:
        answer = await client.get(path, headers=None if page else bearer)
        await answer.aread()
    except httpx.HTTPError:  # a timeout (TIMEOUT s) counts as an error, it does not end the run
        samples.add(label, time.perf_counter() - began, None, False)
        return
    elapsed = time.perf_counter() - began
    dur = server_ms(answer.headers.get("server-timing"))
    ok = answer.status_code == 200
    samples.add(label, elapsed, None if dur is None else dur / 1000, ok)


def hammer(
    base_url: str,
    endpoints: Sequence[tuple[str, str, bool]],
    clients: int,
    seconds: float,
    token: str,
    username: str,
    password: str,
    *,
    rounds: int = 0,
) -> Samples:
    """`clients` concurrent clients cycling through the endpoints, run in a child process.

    Each endpoint is (label, path, is_page): pages use a signed-in session, the API a token.
    With `rounds`, one client asks each endpoint alone `rounds` times in a row (at most
    `seconds` per endpoint) instead.
    """
    spec = {
        "base_url": base_url, "endpoints": [list(e) for e in endpoints], "clients": clients,
        "seconds": seconds, "token": token, "username": username, "password": password,
        "rounds": rounds,
    }  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="lw-webload-") as folder:
        spec_file, out_file = Path(folder) / "spec.json", Path(folder) / "out.json"
        # The spec holds a password and a token: a 0600 file, not argv.
        fd = os.open(spec_file, os.O_WRONLY | os.O_CREAT, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump({**spec, "out": str(out_file)}, handle)
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.webload", str(spec_file)],
            cwd=Path(__file__).resolve().parent.parent,
            capture_output=True, text=True, check=False,
            timeout=seconds * (len(endpoints) if rounds else 1) + 600,
        )  # fmt: skip
        if done.returncode != 0 or not out_file.exists():
            raise RuntimeError(f"load generator exited {done.returncode}: {done.stderr[-2000:]}")
        data = json.loads(out_file.read_text())
    return Samples(
        latencies=data["latencies"],
        server=data["server"],
        errors=data["errors"],
        seconds=data["seconds"],
        client_cpu=data["client_cpu"],
    )


def main(argv: list[str]) -> int:
    spec = json.loads(Path(argv[0]).read_text())
    samples = asyncio.run(_load(spec))
    Path(spec["out"]).write_text(
        json.dumps(
            {
                "latencies": samples.latencies,
                "server": samples.server,
                "errors": samples.errors,
                "seconds": samples.seconds,
                "client_cpu": samples.client_cpu,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
