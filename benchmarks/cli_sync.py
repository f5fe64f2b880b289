"""W1's whole-command row: `licensewatch sync` as a user runs it, start-up and read models in."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from benchmarks.measure import ChildFailed, Measured
from licensewatch.security.crypto import generate_key

TENANT = "w1"


def _licensewatch() -> list[str]:
    """The console script beside this interpreter (what a user types), else `python -m`."""
    script = Path(sys.executable).with_name("licensewatch")
    return [str(script)] if script.exists() else [sys.executable, "-m", "licensewatch"]


def _add_tenant(env: dict[str, str], connection: dict[str, Any]) -> None:
    arguments = [
        *_licensewatch(), "tenant", "add", TENANT, "--tenant-id", connection["tenant_id"],
        "--client-id", connection["client_id"], "--client-secret-stdin",
        "--authority-host", connection["base_url"], "--graph-endpoint", connection["base_url"],
        "--ca-bundle", connection["ca_bundle"],
    ]  # fmt: skip
    added = subprocess.run(
        arguments,
        input=connection["client_secret"] + "\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if added.returncode != 0:
        raise ChildFailed(f"tenant add exited {added.returncode}: {added.stderr[-3000:]}")


def _stored_users(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as db:
            count = db.scalar(text("SELECT user_count FROM tenants WHERE name = :n"), {"n": TENANT})
    finally:
        engine.dispose()
    return int(count or 0)


def sync_command(connection: dict[str, Any], url: str, workdir: Path) -> Measured:
    """Times `licensewatch sync w1 --mode full` from spawn to exit on a database holding only
    the tenant (added first, untimed): interpreter start-up, imports, the sync, its usage
    reports and the read models' build, exactly what the shell's prompt waits for."""
    home = Path(tempfile.mkdtemp(prefix="lw-bench-cli-", dir=workdir))
    env = {
        **os.environ,
        "LICENSEWATCH_HOME": str(home),
        "LICENSEWATCH_DATABASE_URL": url,
        "LICENSEWATCH_SECRET_KEY": generate_key().decode(),
        "LICENSEWATCH_LOG_LEVEL": "WARNING",
        "COLUMNS": "120",
    }
    try:
        _add_tenant(env, connection)
        err_file = home / "stderr.txt"
        started = time.perf_counter()
        with err_file.open("wb") as err:
            process = subprocess.Popen(
                [*_licensewatch(), "sync", TENANT, "--mode", "full"],
                stdout=subprocess.DEVNULL,
                stderr=err,
                env=env,
            )
            _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            tail = err_file.read_text(errors="replace")[-3000:]
            raise ChildFailed(f"licensewatch sync exited {code}: {tail}")
        cpu = usage.ru_utime + usage.ru_stime
        report = {"users": _stored_users(url), "seconds": wall, "cpu": cpu}
        return Measured(report, wall, cpu, usage.ru_maxrss / 1024)
    finally:
        shutil.rmtree(home, ignore_errors=True)
