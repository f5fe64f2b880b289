"""The benchmark harness end to end: `python -m benchmarks --quick --only W1` and its output."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from database_fixtures import POSTGRES_HOST, POSTGRES_PORT

ROOT = Path(__file__).resolve().parents[2]
NUMBERS = ("wall s", "CPU s", "users/s", "peak RSS MiB", "× floor wall")


def _postgres_up() -> bool:
    import psycopg

    try:
        with psycopg.connect(
            host=POSTGRES_HOST, port=POSTGRES_PORT, user="postgres", connect_timeout=3
        ):
            return True
    except psycopg.OperationalError:
        return False


@pytest.mark.slow
def test_quick_w1_prints_a_table_and_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    env = {k: v for k, v in os.environ.items() if k not in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")}
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--only", "W1", "--json", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=420,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "### W1:" in done.stdout
    assert "| users | variant | read | wall s |" in done.stdout
    document = json.loads(out.read_text())
    assert document["mode"] == "quick"
    assert document["machine"]["nproc"] >= 1
    assert {"cpu_model", "memory_mib", "python"} <= document["machine"].keys()
    w1 = document["workloads"]["W1"]
    assert w1["status"] == "ok", w1["reason"]
    assert {"load1_min", "load1_mean", "load1_max"} == w1["load"].keys()
    variants = {row["variant"].split(" (")[0]: row for row in w1["rows"]}
    expected = {
        "bare httpx + orjson",
        "licensewatch → SQLite",
        "`licensewatch sync` command → SQLite",
    }
    if _postgres_up():
        expected |= {"licensewatch → PostgreSQL", "`licensewatch sync` command → PostgreSQL"}
    has_sdk = importlib.util.find_spec("msgraph") is not None
    assert expected <= set(variants)
    assert any(v.startswith("msgraph-sdk") for v in variants) == has_sdk
    for name in expected:
        row = variants[name]
        assert row["users"] == row["read"] == 2000
        assert all(isinstance(row[c], float) and row[c] > 0 for c in NUMBERS), row
    assert variants["bare httpx + orjson"]["× floor wall"] == 1.0
    names = [t["name"] for t in w1["targets"]]
    assert any("sync wall ÷ bare fetch wall" in n for n in names)
    assert any("whole command wall ÷ bare fetch wall at 2,000" in n for n in names)
    assert any("peak RSS" in n for n in names)
    assert all(t["met"] in (True, False, None) for t in w1["targets"])
    assert f"JSON: {out}" in done.stdout
