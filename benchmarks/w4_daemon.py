"""W4: 1,000 tenants × 50 users at 100 ms: the daemon, and 1 vs 3 procrastinate workers."""

from __future__ import annotations

from benchmarks.config import Config
from benchmarks.report import Workload

PLAN = (
    "not wired yet: `licensewatch daemon --once` and `licensewatch worker` landed during this "
    "run. Plan: emulator with --tenants 1000 --users 50 --latency-ms 100; a fresh PostgreSQL "
    "database per variant; tenants registered through services.tenants.TenantService.add; time "
    "`daemon --once --concurrency C` to exit, and 1 vs 3 `worker` processes until every tenant "
    "has a COMPLETED run; floor = Σ requests × 100 ms ÷ concurrency"
)


def run(config: Config) -> Workload:
    return Workload(
        "W4", "1,000 tenants × 50 users, daemon and workers", status="not available", reason=PLAN
    )
