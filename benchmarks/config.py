"""Settings of one benchmark run, from the command line."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

FULL_SIZES = (10_000, 100_000, 300_000)
QUICK_SIZES = (2_000,)


@dataclass(frozen=True)
class Config:
    sizes: tuple[int, ...] = FULL_SIZES
    quick: bool = False
    msgraph_cap: int = 5_000  # msgraph-sdk reads ~100-300 users/s: its rate is extrapolated
    latency_ms: int = 300  # W2
    shards: int = 8  # W2
    shard_processes: tuple[int, ...] = (2, 4)  # W2: process counts measured beside threads
    w2_databases: tuple[str, ...] = ("sqlite", "postgresql")  # W2
    w2_rounds: int = 2  # W2: every mode this often, in alternating order (a noisy machine)
    seed: int = 1
    workdir: Path = Path("/tmp")
    profile_dir: Path | None = None  # cProfile dumps of the sync children (W1)
    web_sizes: tuple[int, ...] = (300_000, 1_000_000)  # W5: users of its one tenant
    web_databases: tuple[str, ...] = ("sqlite", "postgresql")  # W5
    web_workers: int | None = None  # W5: `serve --workers` (None: serve's default, the CPUs)

    @property
    def label(self) -> str:
        return "quick" if self.quick else "full"
