"""Results of a run: Markdown tables for the terminal and docs, target checks, and the JSON file."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
Row = dict[str, Any]


@dataclass
class Target:
    """One performance target: `value` compared with `limit` (`le`: value ≤ limit; `ge`: ≥)."""

    name: str
    value: float | None
    limit: float
    op: str = "le"
    note: str = ""

    @property
    def met(self) -> bool | None:
        if self.value is None:
            return None
        return self.value <= self.limit if self.op == "le" else self.value >= self.limit

    def line(self) -> str:
        sign = "≤" if self.op == "le" else "≥"
        verdict = {True: "MET", False: "NOT MET", None: "n/a"}[self.met]
        shown = "n/a" if self.value is None else f"{self.value:.3g}"
        note = f" ({self.note})" if self.note else ""
        return f"- {self.name}: {shown} (target {sign} {self.limit:g}) **{verdict}**{note}"


@dataclass
class Workload:
    """What a workload reports: its tables, targets, and why it could not run (if so)."""

    key: str
    title: str
    status: str = "ok"  # ok | not available | failed | skipped
    reason: str = ""
    columns: list[str] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    load: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["targets"] = [{**asdict(t), "met": t.met} for t in self.targets]
        return data


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        if value >= 1000:
            return f"{value:,.0f}"
        return f"{value:.3g}" if value < 10 else f"{value:.1f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def table(columns: Sequence[str], rows: Sequence[Row]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(_cell(row.get(c)) for c in columns) + " |")
    return "\n".join(lines)


def markdown(workload: Workload) -> str:
    head = f"### {workload.key}: {workload.title}"
    if workload.status != "ok":
        return f"{head}\n\n{workload.status}: {workload.reason}\n"
    parts = [head, "", table(workload.columns, workload.rows), ""]
    parts += [target.line() for target in workload.targets]
    parts += [f"- note: {note}" for note in workload.notes]
    if workload.load:
        load = workload.load
        parts.append(
            f"- load average (1 min) during the workload: min {load['load1_min']}, "
            f"mean {load['load1_mean']}, max {load['load1_max']}; took {workload.seconds:.0f} s"
        )
    return "\n".join(parts) + "\n"


def write_json(
    payload: dict[str, Any], workloads: Sequence[Workload], path: Path | None = None
) -> Path:
    """The run as JSON (default: benchmarks/results/bench-<UTC time>.json, git-ignored)."""
    if path is None:
        RESULTS.mkdir(parents=True, exist_ok=True)
        path = RESULTS / time.strftime("bench-%Y%m%dT%H%M%SZ.json", time.gmtime())
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {**payload, "workloads": {w.key: w.to_json() for w in workloads}}
    path.write_text(json.dumps(document, indent=2) + "\n")
    return path
