"""How to read a pip-audit JSON report honestly: what was checked, what could not be, verdict."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

# Below this share of installed distributions actually checked, "no known vulnerabilities" says
# too little to pass. Skips are legitimate only for the odd private or unreleased package.
MIN_COVERAGE = 0.9
PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


class Outcome(StrEnum):
    PASSED = "passed"
    VULNERABLE = "vulnerable"
    TOO_FEW = "too_few"  # the service answered, but for too few packages: a real gap
    UNAVAILABLE = "unavailable"  # no package could be checked: the service is out of reach


@dataclass
class Verdict:
    outcome: Outcome
    message: str
    audited: int = 0
    total: int = 0
    vulnerable: dict[str, list[str]] = field(default_factory=dict)


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def runtime_dependencies(pyproject: Path = PYPROJECT) -> set[str]:
    """The distributions licensewatch itself requires (names only, extras and markers dropped)."""
    requirements = tomllib.loads(pyproject.read_text())["project"]["dependencies"]
    return {canonical(re.split(r"[\s\[<>=!~;]", line, maxsplit=1)[0]) for line in requirements}


def judge(report: dict[str, Any] | None, required: set[str], failure: str = "") -> Verdict:
    """The verdict on one pip-audit run (`report` None: it produced no report at all)."""
    if report is None:
        return Verdict(Outcome.UNAVAILABLE, f"pip-audit produced no report: {failure}")
    dependencies = report.get("dependencies", [])
    skipped = {canonical(d["name"]): d["skip_reason"] for d in dependencies if "skip_reason" in d}
    audited = [d for d in dependencies if "skip_reason" not in d]
    total = len(dependencies)
    counts = f"pip-audit checked {len(audited)} of {total} installed distributions"
    vulnerable = {
        f"{d['name']} {d['version']}": [v["id"] for v in d["vulns"]]
        for d in audited
        if d.get("vulns")
    }
    if vulnerable:
        return Verdict(
            Outcome.VULNERABLE, f"upgrade these: {vulnerable}", len(audited), total, vulnerable
        )
    if not audited:
        sample = next(iter(skipped.values()), "no distribution was reported")
        return Verdict(
            Outcome.UNAVAILABLE,
            f"{counts}, so its 'No known vulnerabilities found' means nothing; e.g. {sample}. "
            "PyPI's JSON API (pypi.org/pypi/NAME/VERSION/json) or OSV must be reachable",
            0,
            total,
        )
    unchecked = sorted(required & set(skipped))
    if unchecked or len(audited) < MIN_COVERAGE * total:
        reasons = "; ".join(skipped[name] for name in (unchecked or sorted(skipped))[:5])
        return Verdict(
            Outcome.TOO_FEW,
            f"{counts} (at least {MIN_COVERAGE:.0%} and every runtime dependency required); "
            f"not checked: {', '.join(unchecked) or len(skipped)}; {reasons}",
            len(audited),
            total,
        )
    return Verdict(Outcome.PASSED, counts, len(audited), total)
