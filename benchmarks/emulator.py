"""The emulator in its own process: `licensewatch emulator serve --port 0 --info-file …`."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

START_TIMEOUT = 300.0


class EmulatorProcess:
    """Starts the emulator CLI in a subprocess, waits for its info file, stops it with SIGTERM."""

    def __init__(
        self,
        *,
        users: int,
        tenants: int = 1,
        latency_ms: int = 0,
        seed: int = 1,
        scenario: str = "enterprise",
        workdir: Path | None = None,
    ) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="lw-bench-emulator-", dir=workdir)
        self.folder = Path(self._tmp.name)
        self.info_file = self.folder / "info.json"
        self.log_file = self.folder / "emulator.log"
        self.args = [
            sys.executable, "-m", "licensewatch", "emulator", "serve",
            "--port", "0", "--info-file", str(self.info_file),
            "--tenants", str(tenants), "--users", str(users), "--seed", str(seed),
            "--scenario", scenario, "--latency-ms", str(latency_ms),
        ]  # fmt: skip
        self.process: subprocess.Popen[bytes] | None = None
        self.info: dict[str, Any] = {}
        self.start_seconds = 0.0

    def __enter__(self) -> EmulatorProcess:
        started = time.perf_counter()
        with self.log_file.open("wb") as log:
            self.process = subprocess.Popen(self.args, stdout=log, stderr=subprocess.STDOUT)
        while not self.info_file.exists():
            if self.process.poll() is not None:
                raise RuntimeError(f"the emulator exited: {self.log_file.read_text()[-2000:]}")
            if time.perf_counter() - started > START_TIMEOUT:
                self._stop()
                raise RuntimeError("the emulator did not start in time")
            time.sleep(0.05)
        self.info = json.loads(self.info_file.read_text())
        self.start_seconds = time.perf_counter() - started
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop()
        self._tmp.cleanup()

    def _stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    @property
    def tenant(self) -> dict[str, Any]:
        first: dict[str, Any] = self.info["tenants"][0]
        return first

    def connection_spec(self, index: int = 0) -> dict[str, Any]:
        """What a child process needs to reach tenant `index` (passed as JSON, never logged)."""
        tenant = self.info["tenants"][index]
        return {
            "base_url": self.info["graph_endpoint"],
            "ca_bundle": self.info["ca_bundle"],
            "tenant_id": tenant["tenant_id"],
            "client_id": tenant["client_id"],
            "client_secret": tenant["client_secret"],
            "users": tenant["users"],
        }
