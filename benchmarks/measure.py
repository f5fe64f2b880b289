"""Runs one measured child process: its report, CPU time and peak RSS (from wait4's rusage)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHILD_TIMEOUT = 1800.0


class ChildFailed(RuntimeError):
    """The measured child exited non-zero; the message carries the end of its stderr."""


@dataclass(frozen=True)
class Measured:
    """A child's own report plus what the kernel says about the whole child process."""

    report: dict[str, Any]
    process_wall: float  # seconds from spawn to exit (interpreter start and imports included)
    process_cpu: float  # user + system seconds of the whole child
    peak_rss_mib: float  # the child's VmHWM (else ru_maxrss of exactly this child, from wait4)


def run_child(mode: str, spec: dict[str, Any], *, env: dict[str, str] | None = None) -> Measured:
    """Run `python -m benchmarks.child MODE SPEC_FILE` and measure it.

    The spec (it holds the emulator's client secret) travels in a 0600 file, not on argv.
    getrusage(RUSAGE_CHILDREN).ru_maxrss is the maximum over every child ever waited for (the
    emulators included), so each child is reaped with os.wait4, which reports that child alone.
    Even that ru_maxrss counts the harness's own pages the child shared between fork and exec,
    so the child reports its image's high-water mark (VmHWM) itself, and that is what counts.
    """
    with tempfile.TemporaryDirectory(prefix="lw-bench-child-") as folder:
        spec_file, out_file = Path(folder) / "spec.json", Path(folder) / "out.json"
        fd = os.open(spec_file, os.O_WRONLY | os.O_CREAT, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump({**spec, "out": str(out_file)}, handle)
        err_file = Path(folder) / "stderr.txt"
        started = time.perf_counter()
        with err_file.open("wb") as err:
            process = subprocess.Popen(
                [sys.executable, "-m", "benchmarks.child", mode, str(spec_file)],
                stdout=subprocess.DEVNULL,
                stderr=err,
                env={**os.environ, **(env or {})},
                cwd=Path(__file__).resolve().parent.parent,
            )
            _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
        if process.returncode != 0 or not out_file.exists():
            tail = err_file.read_text(errors="replace")[-3000:]
            raise ChildFailed(f"{mode} child exited {process.returncode}: {tail}")
        report: dict[str, Any] = json.loads(out_file.read_text())
    return Measured(
        report=report,
        process_wall=wall,
        process_cpu=usage.ru_utime + usage.ru_stime,
        peak_rss_mib=(report.get("peak_rss_kib") or usage.ru_maxrss) / 1024,  # both in KiB
    )
