"""W4's fleet: tenants registered through the product, daemon or worker CLI processes, run stats."""

from __future__ import annotations

import json
import os
import signal
import ssl
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from benchmarks.emulator import EmulatorProcess
from licensewatch.security.crypto import Keyring, generate_key
from licensewatch.services.tenants import SecretInput, TenantService, TenantSettings
from licensewatch.storage.database import read_transaction
from licensewatch.storage.models import SyncRun, SyncStatus

POLL_SECONDS = 0.2
STOP_SECONDS = 60.0


def new_key() -> tuple[Keyring, str]:
    """The keyring the registration encrypts with and the LICENSEWATCH_SECRET_KEY of the CLI."""
    key = generate_key()
    return Keyring((key,), "bench"), key.decode()


def register(engine: Engine, emulator: EmulatorProcess, keyring: Keyring) -> int:
    """Every emulated tenant added as `t0000`, `t0001`… through TenantService.add (encrypted)."""
    service = TenantService(engine, keyring)
    info = emulator.info
    for index, tenant in enumerate(info["tenants"]):
        service.add(
            TenantSettings(
                name=f"t{index:04d}",
                tenant_id=tenant["tenant_id"],
                client_id=tenant["client_id"],
                credential=SecretInput(tenant["client_secret"]),
                authority_host=info["authority_host"],
                graph_endpoint=info["graph_endpoint"],
                ca_bundle=info["ca_bundle"],
            )
        )
    return len(info["tenants"])


def emulator_requests(emulator: EmulatorProcess, *, reset: bool = False) -> dict[str, Any]:
    """The emulator's request counts (GET /_emulator/requests; DELETE also resets them)."""
    trust = ssl.create_default_context(cafile=emulator.info["ca_bundle"])
    request = urllib.request.Request(  # noqa: S310 - the emulator on loopback
        f"{emulator.info['graph_endpoint']}/_emulator/requests",
        method="DELETE" if reset else "GET",
    )
    with urllib.request.urlopen(request, context=trust, timeout=30) as response:  # noqa: S310
        counts: dict[str, Any] = json.loads(response.read())
    return counts


def cli_env(home: Path, database_url: str, secret_key: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LICENSEWATCH_")}
    env.update(
        LICENSEWATCH_HOME=str(home),
        LICENSEWATCH_DATABASE_URL=database_url,
        LICENSEWATCH_SECRET_KEY=secret_key,
        LICENSEWATCH_LOG_LEVEL="WARNING",
    )
    return env


@dataclass
class Processes:
    """CLI processes started together; each reaped with os.wait4, so its own CPU is known."""

    env: dict[str, str]
    log_dir: Path
    running: list[subprocess.Popen[bytes]] = field(default_factory=list)
    cpu: float = 0.0
    failed: list[str] = field(default_factory=list)

    def start(self, *args: str) -> None:
        log = self.log_dir / f"process-{len(self.running)}.log"
        with log.open("wb") as handle:
            self.running.append(
                subprocess.Popen(
                    [sys.executable, "-m", "licensewatch", *args],
                    env=self.env,
                    stdout=handle,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                )
            )

    def alive(self) -> bool:
        # Not Popen.poll(): its waitpid would reap the child and lose its rusage.
        return not any(self._reap(p, os.WNOHANG) for p in self.running)

    def wait(self) -> None:
        """Reap every process (they exit by themselves: `daemon --once`)."""
        for process in self.running:
            self._reap(process)

    def stop(self) -> None:
        """SIGTERM (a worker finishes its current page and exits 0), then reap."""
        for process in self.running:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        for process in self.running:
            while process.returncode is None and time.monotonic() < deadline:
                if not self._reap(process, os.WNOHANG):
                    time.sleep(0.05)
            if process.returncode is None:
                process.kill()
                self._reap(process)

    def _reap(self, process: subprocess.Popen[bytes], flags: int = 0) -> bool:
        if process.returncode is not None:
            return True
        pid, status, usage = os.wait4(process.pid, flags)
        if pid == 0:
            return False  # still running (WNOHANG)
        process.returncode = os.waitstatus_to_exitcode(status)
        self.cpu += usage.ru_utime + usage.ru_stime
        if process.returncode not in (0, -signal.SIGTERM):
            log = self.log_dir / f"process-{self.running.index(process)}.log"
            tail = log.read_text(errors="replace")[-1500:]
            self.failed.append(f"pid {process.pid} exited {process.returncode}: {tail}")
        return True


def completed_tenants(engine: Engine) -> int:
    with read_transaction(engine) as db:
        statement = select(func.count(func.distinct(SyncRun.tenant_id))).where(
            SyncRun.status == SyncStatus.COMPLETED
        )
        return int(db.scalar(statement) or 0)


def wait_until_completed(
    engine: Engine, tenants: int, processes: Processes, timeout: float
) -> bool:
    """Poll until every tenant has a COMPLETED run; False if a process died or time ran out."""
    deadline = time.monotonic() + timeout
    while completed_tenants(engine) < tenants:
        if not processes.alive() or time.monotonic() > deadline:
            return False
        time.sleep(POLL_SECONDS)
    return True


def run_stats(engine: Engine) -> dict[str, Any]:
    """What the runs recorded: counts by status, Graph requests, first start to last end."""
    with read_transaction(engine) as db:
        by_status = dict(
            db.execute(select(SyncRun.status, func.count()).group_by(SyncRun.status)).all()
        )
        row = db.execute(
            select(
                func.min(SyncRun.started_at),
                func.max(SyncRun.finished_at),
                func.sum(SyncRun.requests),
                func.avg(SyncRun.duration_ms),
            ).where(SyncRun.status == SyncStatus.COMPLETED)
        ).one()
    first, last, graph_requests, mean_ms = row
    span = (last - first).total_seconds() if first is not None and last is not None else None
    return {
        "runs": {str(k): int(v) for k, v in by_status.items()},
        "graph_requests": int(graph_requests or 0),
        "span": span,
        "mean_sync_ms": float(mean_ms or 0.0),
    }


_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def process_cpu(pid: int) -> float | None:
    """User + system CPU seconds of a running process (Linux /proc; None elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime


def machine_cpu() -> tuple[float, float] | None:
    """(busy, total) CPU seconds of the whole machine since boot, every process and helper."""
    try:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    total = sum(values[:8])  # guest time is already counted in user
    return (total - idle) / _TICKS, total / _TICKS
