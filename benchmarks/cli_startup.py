"""CLI start-up: `--help`, `balance`, `status`, `tenant list` beside `python -c "import typer"`.

`python -m benchmarks.cli_startup [--runs 7] [--baseline-src DIR] [--database FILE]
[--baseline-database FILE] [--median] [--only status,balance]`. Each command runs `--runs`
times in a fresh interpreter over a tiny database (one tenant, migrated beforehand); the figure
is the fastest run's wall time and its CPU time (user + system, from wait4), whose ratio to the
bare `import typer` is issue 12's target: `--help` at most 2x, the others at most 4x. The
fastest run is the one least disturbed by other processes on a shared machine; `--median`
reports the median run's wall and CPU instead.
`--baseline-src` (another checkout's `src`, e.g. from `git archive main src | tar -x -C DIR`)
also times each command of that code, interleaved with this one's, as `main: …` rows.
`--database` reads an already built SQLite file instead (e.g. W5's 300k-user tenant from
`python -m benchmarks.web_cpu --keep FILE`); the baseline reads `--baseline-database` (default:
the same file), for when the two codes want different schema revisions.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

BASELINE = ("-c", "import typer")
# What a quick read cannot go below while it runs a Typer command over SQLAlchemy: Typer's
# parameter coercion (typer._adapters imports pydantic) and SQLAlchemy Core with its SQLite dialect
# (PostgreSQL's reads still pay it) ...
FLOOR = ("-c", "import typer, typer._adapters, sqlalchemy, sqlalchemy.dialects.sqlite")
# ... and on SQLite, where they read through the standard library's sqlite3 (cli/database.py).
FLOOR_SQLITE3 = ("-c", "import typer, typer._adapters, sqlite3")
COMMANDS: dict[str, tuple[str, ...]] = {
    "import typer": BASELINE,
    "floor: typer command + SQLAlchemy Core": FLOOR,
    "floor: typer command + sqlite3": FLOOR_SQLITE3,
    "--help": ("-m", "licensewatch", "--help"),
    "balance": ("-m", "licensewatch", "balance"),
    "status": ("-m", "licensewatch", "status"),
    "tenant list": ("-m", "licensewatch", "tenant", "list"),
}
TARGETS = {"--help": 2.0, "balance": 4.0, "status": 4.0, "tenant list": 4.0}


@dataclass(frozen=True)
class StartUp:
    name: str
    wall: float  # seconds, of the fastest run (or the median wall, `--median`)
    cpu: float  # user + system seconds of that run (or the median CPU)

    def ratio(self, baseline: StartUp) -> float:
        return self.wall / baseline.wall


def prepare(home: Path) -> None:
    """A migrated database with one tenant (no network: adding a tenant only stores it)."""
    from licensewatch.services.tenants import SecretInput, TenantService, TenantSettings
    from licensewatch.storage.database import make_engine

    engine = make_engine(f"sqlite:///{home / 'licensewatch.db'}")
    TenantService(engine).add(
        TenantSettings(
            name="contoso",
            tenant_id="contoso.onmicrosoft.com",
            client_id="3f2b9c7e-1a2b-4c3d-8e9f-0a1b2c3d4e5f",
            credential=SecretInput("Zq8~BenchmarkSecretValue.ForStartUp_0123456"),
        )
    )
    engine.dispose()


def commands(baseline_src: Path | None) -> dict[str, tuple[tuple[str, ...], dict[str, str]]]:
    """Name → (arguments, extra environment); the baseline's commands run its `src` first."""
    found: dict[str, tuple[tuple[str, ...], dict[str, str]]]
    found = {name: (args, {}) for name, args in COMMANDS.items()}
    if baseline_src is not None:
        extra = {"PYTHONPATH": str(baseline_src.resolve())}
        found |= {f"main: {n}": (a, extra) for n, a in COMMANDS.items() if n in TARGETS}
    return found


def once(args: tuple[str, ...], env: dict[str, str]) -> tuple[float, float]:
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"{args} exited {process.returncode}")
    return wall, usage.ru_utime + usage.ru_stime


def _url(database: Path) -> str:
    return f"sqlite:///{database.resolve()}"


def measure(
    runs: int = 7,
    baseline_src: Path | None = None,
    *,
    database: Path | None = None,
    baseline_database: Path | None = None,
    median: bool = False,
    only: frozenset[str] | None = None,
) -> list[StartUp]:
    with tempfile.TemporaryDirectory() as directory:
        home = Path(directory) / "home"
        home.mkdir(mode=0o700)
        env = {k: v for k, v in os.environ.items() if not k.startswith("LICENSEWATCH_")}
        env["LICENSEWATCH_HOME"] = str(home)
        os.environ["LICENSEWATCH_HOME"] = str(home)
        if database is None:
            prepare(home)
        else:
            env["LICENSEWATCH_DATABASE_URL"] = _url(database)
        chosen = commands(baseline_src)
        if only is not None:  # the baseline row (first) stays: the ratios are to it
            first = next(iter(chosen))
            chosen = {
                n: c for n, c in chosen.items() if n == first or n.removeprefix("main: ") in only
            }
        if database is not None and baseline_database is not None:
            base_url = {"LICENSEWATCH_DATABASE_URL": _url(baseline_database)}
            chosen = {
                n: (a, e | base_url if "PYTHONPATH" in e else e) for n, (a, e) in chosen.items()
            }
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in chosen}
        for _ in range(runs):  # interleaved: a burst of load hits every command alike
            for name, (args, extra) in chosen.items():
                results[name].append(once(args, env | extra))
    if median:
        return [
            StartUp(
                name, statistics.median(w for w, _ in times), statistics.median(c for _, c in times)
            )
            for name, times in results.items()
        ]
    return [StartUp(name, *min(times)) for name, times in results.items()]


def table(rows: list[StartUp]) -> str:
    baseline = rows[0]
    lines = ["| command | wall ms | CPU ms | × import typer (wall) | × (CPU) | target |"]
    lines.append("|---|---:|---:|---:|---:|---:|")
    for row in rows:
        name = row.name.removeprefix("main: ")
        target = f"≤ {TARGETS[name]:g}×" if name in TARGETS else ""
        lines.append(
            f"| `{row.name}` | {row.wall * 1000:.0f} | {row.cpu * 1000:.0f} "
            f"| {row.ratio(baseline):.2f} | {row.cpu / baseline.cpu:.2f} | {target} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cli_startup", description=__doc__)
    parser.add_argument("--runs", type=int, default=7, help="runs per command (fastest counts)")
    parser.add_argument("--baseline-src", type=Path, default=None, help="another checkout's src")
    parser.add_argument("--database", type=Path, default=None, help="a built SQLite file to read")
    parser.add_argument("--baseline-database", type=Path, default=None, help="the baseline's file")
    parser.add_argument("--median", action="store_true", help="median run, not the fastest")
    parser.add_argument("--only", default=None, help="commands to time, comma-separated")
    args = parser.parse_args(argv)
    only = frozenset(s.strip() for s in args.only.split(",")) if args.only else None
    found = measure(
        args.runs,
        args.baseline_src,
        database=args.database,
        baseline_database=args.baseline_database,
        median=args.median,
        only=only,
    )
    print(table(found))


if __name__ == "__main__":
    main()
