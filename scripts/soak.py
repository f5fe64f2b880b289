"""Soak: `licensewatch daemon` over many faulty emulator tenants; RSS, fds, connections, stuck."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "src")]

from sqlalchemy import Engine, func, select, update  # noqa: E402 - after the path set-up

from licensewatch.storage.database import make_engine, write_transaction  # noqa: E402
from licensewatch.storage.models import SyncRun, SyncStatus, TenantSchedule, utcnow  # noqa: E402

# Retried faults at a few percent, plus two that fail a run at once (a repeated nextLink; Entra
# down when a run starts): the daemon must retry those tenants later, never get stuck.
FAULTS = (
    "429:0.04,429-noretry:0.02,503:0.03,504:0.01,reset:0.02,truncate:0.01,garble:0.01,"
    "repeat-nextlink:0.01,token-down:0.02,latency=30:0.3"
)


@dataclass
class Sample:
    at: float
    rss_kib: int
    fds: int
    connections: int | None
    completed: int
    failed: int
    running: int


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def add_tenants(url: str, emulator: object, home: Path) -> None:
    from licensewatch.security.crypto import load_keyring
    from licensewatch.services.tenants import SecretInput, TenantService, TenantSettings
    from licensewatch.settings import Settings

    info = emulator.info  # type: ignore[attr-defined]
    engine = make_engine(url)
    service = TenantService(engine, load_keyring(Settings(home=home, database_url=url)))
    for index, tenant in enumerate(info["tenants"]):
        service.add(
            TenantSettings(
                name=f"soak-{index:02}",
                tenant_id=tenant["tenant_id"],
                client_id=tenant["client_id"],
                credential=SecretInput(tenant["client_secret"]),
                authority_host=info["authority_host"],
                graph_endpoint=info["graph_endpoint"],
                ca_bundle=info["ca_bundle"],
                sync_interval=dt.timedelta(minutes=1),
            )
        )
    engine.dispose()


def make_all_due(engine: Engine) -> None:
    """Keep the daemon busy: every tenant is due again (its schedule would say so hourly)."""
    with write_transaction(engine) as db:
        db.execute(update(TenantSchedule).values(next_sync_at=utcnow()))


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as db:
        rows = db.execute(select(SyncRun.status, func.count()).group_by(SyncRun.status)).all()
    return {str(status): int(n) for status, n in rows}


def stuck_runs(engine: Engine, older_than: float) -> int:
    limit = utcnow() - dt.timedelta(seconds=older_than)
    with engine.connect() as db:
        stale = select(func.count()).where(
            SyncRun.status == SyncStatus.RUNNING, SyncRun.heartbeat_at < limit
        )
        return int(db.scalar(stale) or 0)


def sample(engine: Engine, pid: int, database: str | None) -> Sample:
    from reliability_support import pg_connections

    n = counts(engine)
    return Sample(
        time.monotonic(),
        rss_kib(pid),
        len(os.listdir(f"/proc/{pid}/fd")),
        pg_connections(database) if database else None,
        n.get(SyncStatus.COMPLETED, 0),
        n.get(SyncStatus.FAILED, 0),
        n.get(SyncStatus.RUNNING, 0),
    )


def verify_truth(engine: Engine, world: object) -> list[str]:
    """Each tenant's stored data equals the emulator's ground truth."""
    from licensewatch.storage.models import Tenant
    from reliability_support import same_data, snapshot, truth

    problems = []
    with engine.connect() as db:
        rows = db.execute(select(Tenant.id, Tenant.directory_id)).all()
    for tenant_pk, directory in rows:
        emulated = world.tenants[directory]  # type: ignore[attr-defined]
        if not same_data(snapshot(engine, tenant_pk), truth(emulated)):
            problems.append(f"tenant {directory} differs from the truth")
    return problems


def third(values: list[int], which: int) -> float:
    size = max(1, len(values) // 3)
    part = values[:size] if which == 0 else values[-size:]
    return statistics.median(part)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--tenants", type=int, default=12)
    parser.add_argument("--users", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between samples")
    args = parser.parse_args()
    logging.getLogger("uvicorn.error").setLevel(logging.CRITICAL)  # injected resets are expected

    from licensewatch.emulator.app import create_app
    from licensewatch.emulator.options import EmulatorOptions
    from licensewatch.emulator.seed import build_world
    from licensewatch.emulator.server import start_in_thread
    from reliability_support import pg_admin

    tmp = Path(tempfile.mkdtemp(prefix="lw-soak-"))
    database = None
    url = f"sqlite:///{tmp / 'soak.db'}"
    if args.database == "postgresql":
        from database_fixtures import POSTGRES_HOST, POSTGRES_PORT, POSTGRES_USER

        database = f"lw_soak_{uuid.uuid4().hex[:10]}"
        with pg_admin() as admin:
            admin.execute(f'CREATE DATABASE "{database}"')
        url = f"postgresql+psycopg://{POSTGRES_USER}@{POSTGRES_HOST}:{POSTGRES_PORT}/{database}"
    world = build_world(
        tenants=args.tenants, users=args.users, seed=5, scenario="messy", cert_dir=tmp
    )
    app = create_app(world, EmulatorOptions(faults=FAULTS, seed=5))
    problems: list[str] = []
    with start_in_thread(world, cert_dir=tmp, app=app) as emulator:
        home = tmp / "home"
        home.mkdir(mode=0o700)
        add_tenants(url, emulator, home)
        engine = make_engine(url)
        env = {k: v for k, v in os.environ.items() if not k.startswith("LICENSEWATCH_")}
        env |= {"LICENSEWATCH_HOME": str(home), "LICENSEWATCH_DATABASE_URL": url}
        env["LICENSEWATCH_LOG_LEVEL"] = "WARNING"
        command = [str(Path(sys.executable).parent / "licensewatch"), "daemon"]
        command += ["--concurrency", str(args.concurrency), "--metrics-port", "-1"]
        log = (tmp / "daemon.log").open("w")
        daemon = subprocess.Popen(command, env=env, stdout=log, stderr=log)  # noqa: S603
        samples: list[Sample] = []
        deadline = time.monotonic() + args.minutes * 60
        try:
            while time.monotonic() < deadline and daemon.poll() is None:
                make_all_due(engine)
                time.sleep(args.interval)
                samples.append(sample(engine, daemon.pid, database))
                s = samples[-1]
                print(
                    f"t={s.at - samples[0].at:6.0f}s rss={s.rss_kib / 1024:6.1f} MiB fds={s.fds:3}"
                    f" pg={s.connections} completed={s.completed} failed={s.failed}"
                    f" running={s.running}",
                    flush=True,
                )
            if daemon.poll() is not None:
                problems.append(f"the daemon exited early with {daemon.returncode}")
            stuck = stuck_runs(engine, older_than=120)
            if stuck:
                problems.append(f"{stuck} run(s) RUNNING without a heartbeat for 2 minutes")
            app.state.injector.configure("")  # faults off: one more clean round for every tenant
            settle_from = counts(engine).get(SyncStatus.COMPLETED, 0)
            make_all_due(engine)
            settle_deadline = time.monotonic() + 90
            while counts(engine).get(SyncStatus.COMPLETED, 0) < settle_from + args.tenants:
                if time.monotonic() > settle_deadline:
                    problems.append("the clean round did not complete within 90 s")
                    break
                time.sleep(1)
        finally:
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(timeout=60)
            log.close()
        time.sleep(1)
        problems += verify_truth(engine, world)
        engine.dispose()
    if database:
        with pg_admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    rss = [s.rss_kib for s in samples[2:]] or [0]  # the first samples include start-up
    fds = [s.fds for s in samples[2:]] or [0]
    growth = (third(rss, 2) - third(rss, 0)) / max(third(rss, 0), 1)
    print(
        f"RSS median first third {third(rss, 0) / 1024:.1f} MiB, last third "
        f"{third(rss, 2) / 1024:.1f} MiB ({growth:+.1%}); fds {min(fds)}..{max(fds)}"
    )
    conns = [s.connections for s in samples[2:] if s.connections is not None]
    if conns:
        print(f"PostgreSQL connections {min(conns)}..{max(conns)}")
    if samples:
        last = samples[-1]
        print(f"runs: {last.completed} completed, {last.failed} failed in {args.minutes} min")
    if growth > 0.25:
        problems.append(f"RSS grew {growth:.0%}")
    if max(fds) - min(fds) > 10:
        problems.append(f"file descriptors grew from {min(fds)} to {max(fds)}")
    if conns and max(conns) - min(conns) > 4:
        problems.append(f"PostgreSQL connections grew from {min(conns)} to {max(conns)}")
    print("\n".join(problems) or "soak ok")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
