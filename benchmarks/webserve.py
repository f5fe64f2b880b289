"""`licensewatch serve` in a subprocess for W5, the RSS of its processes, and the CLI it needs."""

from __future__ import annotations

import secrets
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import TracebackType

import httpx

USERNAME = "bench"


def cli(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "licensewatch", *args],
        env=env, input=stdin, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"licensewatch {args[0]} failed: {done.stderr[-800:]}")
    return done.stdout


def account(env: dict[str, str]) -> tuple[str, str]:
    """An admin account and an API token of it: (password, token)."""
    password = secrets.token_urlsafe(18)
    cli(env, "user", "create", USERNAME, "--admin", "--password-stdin", stdin=password)
    token = cli(env, "token", "create", USERNAME).strip().splitlines()[-1].strip()
    return password, token


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            found += [int(p) for p in (task / "children").read_text().split()]
    except OSError:
        pass
    return found


def _is_worker(pid: int) -> bool:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return False
    return b"resource_tracker" not in command  # multiprocessing's helper serves no request


class Server:
    """`licensewatch serve` on a free port; samples each process's RSS twice a second."""

    def __init__(self, env: dict[str, str], folder: Path, workers: int | None) -> None:
        self.env, self.folder, self.workers = env, folder, workers
        self.base = ""
        self.process: subprocess.Popen[bytes] | None = None
        self.peak: dict[int, float] = {}  # pid → highest RSS seen (MiB)
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> Server:
        port = _free_port()
        args = [sys.executable, "-m", "licensewatch", "serve", "--host", "127.0.0.1"]
        args += ["--port", str(port)]
        if self.workers is not None:
            args += ["--workers", str(self.workers)]
        log = (self.folder / "serve.log").open("wb")
        self.process = subprocess.Popen(args, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.base = f"http://127.0.0.1:{port}"
        for _ in range(1200):
            if self.process.poll() is not None:
                tail = (self.folder / "serve.log").read_text()[-800:]
                raise RuntimeError(f"serve exited: {tail}")
            try:
                if httpx.get(f"{self.base}/login", timeout=2).status_code == 200:
                    self._sampler.start()
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.process.terminate()
        raise RuntimeError("the web app did not start")

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def processes(self) -> list[int]:
        """The serving processes: the workers (or the one process when there is no worker)."""
        if self.process is None:
            return []
        workers = [pid for pid in _children(self.process.pid) if _is_worker(pid)]
        return workers or [self.process.pid]

    def rss_now(self) -> list[float]:
        return [r for r in (_rss_mib(pid) for pid in self.processes()) if r is not None]

    def _sample(self) -> None:
        while not self._stop.wait(0.5):
            for pid in self.processes():
                rss = _rss_mib(pid)
                if rss is not None:
                    self.peak[pid] = max(self.peak.get(pid, 0.0), rss)


def startup_rows(env: dict[str, str], runs: int = 5) -> list[dict[str, object]]:
    """CLI start-up: median wall time of a few commands beside `python -c "import typer"`."""
    script = str(Path(sys.executable).parent / "licensewatch")
    commands = {
        'python -c "import typer"': [sys.executable, "-c", "import typer"],
        "licensewatch --help": [script, "--help"],
        "licensewatch balance --format json": [script, "balance", "--format", "json"],
        "licensewatch status": [script, "status"],
    }
    env = {**env, "COLUMNS": "120"}
    times: dict[str, float] = {}
    for label, command in commands.items():
        took = []
        for _ in range(runs):
            began = time.perf_counter()
            subprocess.run(command, env=env, capture_output=True, timeout=120, check=False)
            took.append(time.perf_counter() - began)
        times[label] = sorted(took)[len(took) // 2]
    floor = times['python -c "import typer"']
    return [
        {"command": label, "median ms": seconds * 1000, "× import typer": seconds / floor}
        for label, seconds in times.items()
    ]
