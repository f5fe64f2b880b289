"""Concurrent HTTP clients against the web app: latency percentiles per endpoint."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Samples:
    """Latencies (seconds) per endpoint label, and the failures seen."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, label: str, seconds: float, ok: bool) -> None:
        with self.lock:
            self.latencies.setdefault(label, []).append(seconds)
            if not ok:
                self.errors[label] = self.errors.get(label, 0) + 1


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def login(client: httpx.Client, username: str, password: str) -> None:
    """A browser-like sign-in: the form's CSRF token, then the session cookie."""
    form = client.get("/login")
    match = _CSRF.search(form.text)
    if match is None:
        raise RuntimeError(f"no CSRF token on /login (HTTP {form.status_code})")
    data = {"username": username, "password": password, "csrf_token": match.group(1), "next": "/"}
    answer = client.post("/login", data=data, follow_redirects=False)
    if answer.status_code != 303:
        raise RuntimeError(f"sign-in failed: HTTP {answer.status_code}")


def hammer(
    base_url: str,
    endpoints: Sequence[tuple[str, str, bool]],
    *,
    clients: int,
    seconds: float,
    token: str,
    username: str,
    password: str,
) -> Samples:
    """`clients` threads, each with its own connection, cycling through the endpoints.

    Each endpoint is (label, path, is_page): pages use a signed-in session, the API a token.
    """
    samples = Samples()
    start = threading.Barrier(clients + 1, timeout=300)
    deadline: list[float] = []

    def worker(offset: int) -> None:
        with httpx.Client(base_url=base_url, timeout=60.0, trust_env=False) as http:
            login(http, username, password)
            bearer = {"Authorization": f"Bearer {token}"}
            start.wait()
            i = offset
            while time.perf_counter() < deadline[0]:
                label, path, page = endpoints[i % len(endpoints)]
                began = time.perf_counter()
                answer = http.get(path, headers=None if page else bearer)
                samples.add(label, time.perf_counter() - began, answer.status_code == 200)
                i += 1

    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(clients)]
    for thread in threads:
        thread.start()
    deadline.append(time.perf_counter() + 3600)
    start.wait()
    deadline[0] = time.perf_counter() + seconds
    for thread in threads:
        thread.join()
    return samples
