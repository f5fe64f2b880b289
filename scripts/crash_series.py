"""kill -9 a sync at seeded points; check integrity, readers' snapshots and recovery."""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "src")]

from sqlalchemy import Engine, select, update  # noqa: E402 - after the path set-up

from licensewatch.storage.database import make_engine, read_transaction, write_transaction  # noqa: E402
from licensewatch.storage.models import SyncRun, SyncStatus, Tenant, utcnow  # noqa: E402
from licensewatch.sync.runner import run_sync  # noqa: E402
from reliability_support import (  # noqa: E402
    Rig,
    change_world,
    client_factory,
    orphan_references,
    register,
    same_data,
    snapshot,
    truth,
)

PAGE_SIZE = 10


def child(spec: dict[str, Any]) -> None:
    """The victim: one full sync in this process, announcing every progress event on stdout."""
    from licensewatch.graph.connection import ClientSecretCredential, GraphConnection
    from licensewatch.sync import full

    full.USER_PAGE_SIZE = PAGE_SIZE
    engine = make_engine(spec["url"], upgrade=False)
    connection = GraphConnection(
        tenant=spec["tenant"],
        client_id=spec["client_id"],
        credential=ClientSecretCredential(spec["secret"]),
        authority_host=spec["base"],
        graph_endpoint=spec["base"],
        ca_bundle=spec["ca"],
    )

    def announce(event: Any) -> None:
        print(f"{event.phase} {event.pages_read}", flush=True)

    result = run_sync(engine, spec["tenant_pk"], connection, progress=announce)
    print(f"done {result.status}", flush=True)


@dataclass
class Outcome:
    point: int
    events_seen: int
    finished_before_kill: bool
    observations: int
    published: bool  # the killed run's data became current (killed after its commit)
    problems: list[str] = field(default_factory=list)


def _spawn(rig: Rig, url: str, tenant_pk: int) -> subprocess.Popen[str]:
    info = next(t for t in rig.emulator.info["tenants"] if t["tenant_id"] == rig.tenant.tenant_id)
    spec = {
        "url": url,
        "tenant_pk": tenant_pk,
        "tenant": rig.tenant.tenant_id,
        "client_id": info["client_id"],
        "secret": info["client_secret"],  # on stdin: never on a command line
        "base": rig.emulator.base_url,
        "ca": str(rig.emulator.ca_bundle),
    }
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and script
        [sys.executable, __file__, "--child"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path[:2])},
    )
    if process.stdin is None:
        raise RuntimeError("no stdin pipe")
    process.stdin.write(json.dumps(spec))
    process.stdin.close()
    return process


def integrity_problems(engine: Engine, tenant_pk: int) -> list[str]:
    problems: list[str] = []
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            check = connection.exec_driver_sql("PRAGMA integrity_check").scalars().all()
            if check != ["ok"]:
                problems.append(f"integrity_check: {check}")
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
            if broken:
                problems.append(f"foreign_key_check: {broken[:5]}")
    for constraint, count in orphan_references(engine).items():
        problems.append(f"{count} orphan rows {constraint}")
    with read_transaction(engine) as connection:
        dataset = connection.scalar(select(Tenant.dataset_id).where(Tenant.id == tenant_pk))
        if dataset is not None:
            status = connection.scalar(select(SyncRun.status).where(SyncRun.id == dataset))
            if status != SyncStatus.COMPLETED:
                problems.append(f"the current dataset {dataset} belongs to a {status} run")
    return problems


def age_running_runs(engine: Engine) -> None:
    """What 15 minutes do to a killed worker's heartbeat (the runner's STALE_AFTER)."""
    with write_transaction(engine) as db:
        db.execute(
            update(SyncRun)
            .where(SyncRun.status == SyncStatus.RUNNING)
            .values(heartbeat_at=utcnow() - timedelta(minutes=16))
        )


def crash_once(rig: Rig, engine: Engine, url: str, tenant_pk: int, seed: int) -> Outcome:
    """Change the truth, start a sync in a child, kill -9 it at a seeded event, then recover."""
    rng = random.Random(seed)
    old = snapshot(engine, tenant_pk)
    change_world(rig.tenant, seed)
    new = truth(rig.tenant)
    point, jitter = rng.randint(1, 12), rng.uniform(0.0, 0.04)  # 11 events: 8 pages, commit
    seen: list[Any] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            seen.append(snapshot(engine, tenant_pk))

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    process = _spawn(rig, url, tenant_pk)
    if process.stdout is None:
        raise RuntimeError("no stdout pipe")
    events = 0
    finished = False
    for line in process.stdout:
        if line.startswith("done"):
            finished = True
            break
        events += 1
        if events >= point:
            break
    time.sleep(jitter)
    process.send_signal(signal.SIGKILL)
    process.wait()
    process.stdout.close()
    stop.set()
    thread.join()
    outcome = Outcome(point, events, finished, len(seen), False)
    for view in seen:
        if not (same_data(view, old) or same_data(view, new)):
            outcome.problems.append(f"a reader saw a mix: dataset {view.dataset}")
            break
    outcome.published = same_data(snapshot(engine, tenant_pk), new)
    if not outcome.published and not same_data(snapshot(engine, tenant_pk), old):
        outcome.problems.append("after the kill the data is neither the old nor the new truth")
    outcome.problems += integrity_problems(engine, tenant_pk)
    age_running_runs(engine)
    result = run_sync(engine, tenant_pk, rig.connection(), client_factory=client_factory())
    if not result.ok:
        outcome.problems.append(f"the next run failed: {result.error_message}")
    elif not same_data(snapshot(engine, tenant_pk), truth(rig.tenant)):
        outcome.problems.append("after the next run the numbers differ from the truth")
    outcome.problems += integrity_problems(engine, tenant_pk)
    return outcome


def series(rig: Rig, url: str, points: int, first_seed: int) -> list[Outcome]:
    """`points` crashes against one database (the tenant gets a first good sync)."""
    engine = make_engine(url)
    try:
        tenant_pk = register(engine, rig.tenant)
        first = run_sync(engine, tenant_pk, rig.connection(), client_factory=client_factory())
        if not first.ok:
            raise RuntimeError(f"the first sync failed: {first.error_message}")
        return [crash_once(rig, engine, url, tenant_pk, first_seed + n) for n in range(points)]
    finally:
        engine.dispose()


def _postgres_url() -> tuple[str, str]:
    from reliability_support import pg_admin

    name = f"lw_crash_{uuid.uuid4().hex[:10]}"
    with pg_admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    from database_fixtures import POSTGRES_HOST, POSTGRES_PORT, POSTGRES_USER

    return name, f"postgresql+psycopg://{POSTGRES_USER}@{POSTGRES_HOST}:{POSTGRES_PORT}/{name}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--points", type=int, default=20, help="crashes per database engine")
    parser.add_argument("--seed", type=int, default=1000)
    parser.add_argument("--users", type=int, default=80)
    parser.add_argument("--engines", default="sqlite,postgresql")
    args = parser.parse_args()
    if args.child:
        child(json.loads(sys.stdin.read()))
        return 0
    from licensewatch.emulator.app import create_app
    from licensewatch.emulator.options import EmulatorOptions
    from licensewatch.emulator.seed import build_world
    from licensewatch.emulator.server import start_in_thread
    from reliability_support import pg_admin

    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        world = build_world(tenants=1, users=args.users, seed=args.seed, cert_dir=Path(tmp))
        app = create_app(world, EmulatorOptions(faults="latency=25@/v1.0/users"))
        with start_in_thread(world, cert_dir=Path(tmp), app=app) as emulator:
            rig = Rig(emulator, app.state.injector, next(iter(world.tenants.values())))
            for engine_name in args.engines.split(","):
                dropped = None
                if engine_name == "postgresql":
                    dropped, url = _postgres_url()
                else:
                    url = f"sqlite:///{tmp}/crash-{engine_name}.db"
                try:
                    outcomes = series(rig, url, args.points, args.seed)
                finally:
                    if dropped:
                        with pg_admin() as admin:
                            admin.execute(f'DROP DATABASE IF EXISTS "{dropped}" WITH (FORCE)')
                for o in outcomes:
                    failures += bool(o.problems)
                    state = "finished" if o.finished_before_kill else f"killed@{o.events_seen}"
                    print(
                        f"{engine_name:10} point={o.point:2} {state:12} published={o.published!s:5}"
                        f" reads={o.observations:4} {'; '.join(o.problems) or 'ok'}"
                    )
    print(f"{failures} crash(es) with problems")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
