"""Daemon test helpers: a fleet of emulated tenants onboarded with encrypted credentials."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from licensewatch.emulator.server import RunningEmulator
from licensewatch.security.crypto import Keyring, generate_key
from licensewatch.services.tenants import SecretInput, TenantService, TenantSettings
from licensewatch.storage.database import read_transaction
from licensewatch.storage.models import SyncRun, SyncStatus, Tenant, TenantSchedule, User

WRONG_SECRET = "Wr0ng~" + "q" * 34


def new_keyring() -> tuple[Keyring, str]:
    """A keyring and the matching LICENSEWATCH_SECRET_KEY value (for subprocesses)."""
    key = generate_key()
    return Keyring((key,), "test"), key.decode()


def onboard(
    engine: Engine,
    emulator: RunningEmulator,
    keyring: Keyring,
    *,
    wrong_secret: Iterable[int] = (),
) -> dict[str, int]:
    """Adds every emulated tenant as `t00`, `t01`...; returns name → primary key."""
    service = TenantService(engine, keyring)
    wrong = set(wrong_secret)
    added: dict[str, int] = {}
    for index, info in enumerate(emulator.info["tenants"]):
        secret = WRONG_SECRET if index in wrong else info["client_secret"]
        view = service.add(
            TenantSettings(
                name=f"t{index:02d}",
                tenant_id=info["tenant_id"],
                client_id=info["client_id"],
                credential=SecretInput(secret),
                authority_host=emulator.base_url,
                graph_endpoint=emulator.base_url,
                ca_bundle=str(emulator.ca_bundle),
            )
        )
        added[view.name] = view.id
    return added


def revoke_consent(emulator: RunningEmulator, index: int) -> None:
    """The tenant's app loses its admin consent: tokens carry no roles, Graph answers 403."""
    tenant_id = emulator.info["tenants"][index]["tenant_id"]
    for app in emulator.world.tenants[tenant_id].apps.values():
        app.roles.clear()


@dataclass(frozen=True)
class Schedule:
    next_sync_at: datetime | None
    consecutive_failures: int
    last_success_at: datetime | None
    last_failure_at: datetime | None
    lease_owner: str | None


def schedules(engine: Engine) -> dict[int, Schedule]:
    s = TenantSchedule
    statement = select(
        s.tenant_id,
        s.next_sync_at,
        s.consecutive_failures,
        s.last_success_at,
        s.last_failure_at,
        s.lease_owner,
    )
    with read_transaction(engine) as db:
        return {row[0]: Schedule(*row[1:]) for row in db.execute(statement)}


def runs(engine: Engine) -> list[Any]:
    statement = select(
        SyncRun.id,
        SyncRun.tenant_id,
        SyncRun.status,
        SyncRun.started_at,
        SyncRun.finished_at,
        SyncRun.error_kind,
        SyncRun.error_message,
        SyncRun.worker,
    ).order_by(SyncRun.id)
    with read_transaction(engine) as db:
        return list(db.execute(statement).all())


def current_users(engine: Engine, tenant_pk: int) -> tuple[int | None, int]:
    """(dataset id, users in it) of a tenant."""
    with read_transaction(engine) as db:
        dataset = db.scalar(select(Tenant.dataset_id).where(Tenant.id == tenant_pk))
        count = db.scalar(select(func.count()).select_from(User).where(User.dataset_id == dataset))
    return dataset, int(count or 0)


def wait_for(
    condition: Callable[[], bool],
    timeout: float,
    what: str,
    step: float = 0.2,
    explain: Callable[[], str] | None = None,
) -> None:
    """Polls `condition`; on time-out fails with `explain()` (the state that was waited on)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            state = f"\n{explain()}" if explain else ""
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}{state}")
        time.sleep(step)


def fleet_state(engine: Engine, logs: Iterable[Path], tail: int = 25) -> str:
    """Sync runs, schedules and the workers' last log lines: why a fleet test timed out."""
    lines = ["sync runs:", *(f"  {tuple(run)}" for run in runs(engine)), "schedules:"]
    lines += [f"  {pk}: {schedule}" for pk, schedule in schedules(engine).items()]
    for log in logs:
        text = log.read_text(errors="replace").splitlines() if log.exists() else []
        lines += [f"{log.name} (last {tail} lines):", *(f"  {line}" for line in text[-tail:])]
    return "\n".join(lines)


def assert_no_overlap(all_runs: list[Any]) -> None:
    """No two COMPLETED runs of a tenant overlap in time."""
    by_tenant: dict[int, list[Any]] = {}
    for run in all_runs:
        if run.status == SyncStatus.COMPLETED:
            by_tenant.setdefault(run.tenant_id, []).append(run)
    for tenant_runs in by_tenant.values():
        tenant_runs.sort(key=lambda r: r.started_at)
        for before, after in itertools.pairwise(tenant_runs):
            assert before.finished_at <= after.started_at, (before, after)


def http_get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback only
            return int(response.status), response.read().decode()
    except urllib.error.HTTPError as error:
        return int(error.code), error.read().decode()


def process_env(home: Path, database_url: str, secret_key: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LICENSEWATCH_")}
    env.update(
        LICENSEWATCH_HOME=str(home),
        LICENSEWATCH_DATABASE_URL=database_url,
        LICENSEWATCH_SECRET_KEY=secret_key,
        LICENSEWATCH_LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
    )
    return env


def spawn(env: dict[str, str], log_file: Path, *args: str) -> subprocess.Popen[bytes]:
    """`python -m licensewatch ARGS` with stderr and stdout into log_file."""
    handle = log_file.open("ab")
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "licensewatch", *args],
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    finally:
        handle.close()


def status_json(env: dict[str, str]) -> list[dict[str, Any]]:
    result = subprocess.run(
        [sys.executable, "-m", "licensewatch", "status", "--format", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    return rows
