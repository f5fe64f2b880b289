"""The installed `licensewatch` executable in real processes, with LICENSEWATCH_HOME=<tmp>."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from emulator_fixtures import EmulatorFactory
from licensewatch.emulator.truth import ground_truth

EXECUTABLE = Path(sys.executable).parent / "licensewatch"
SKU_NUMBERS = ("enabled", "warning", "suspended", "locked_out", "consumed", "available")


def run(home: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LICENSEWATCH_")}
    env["LICENSEWATCH_HOME"] = str(home)
    result = subprocess.run(
        [str(EXECUTABLE), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = run(
        tmp_path, "tenant", "add", "x", "--tenant-id", "organizations",
        "--client-id", "4d856d1f-0000-4000-8000-000000000001", "--client-secret-stdin",
        stdin="abC8Q~value\n",
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("error:")
    assert "multi-tenant alias" in result.stderr


def test_real_process_round_trip(make_emulator: EmulatorFactory, tmp_path: Path) -> None:
    emulator = make_emulator(users=40, seed=21)
    info = emulator.info
    tenant = info["tenants"][0]
    home = tmp_path / "home"
    added = run(
        home, "tenant", "add", "contoso", "--tenant-id", tenant["tenant_id"],
        "--client-id", tenant["client_id"], "--client-secret-stdin",
        "--authority-host", info["authority_host"], "--graph-endpoint", info["graph_endpoint"],
        "--ca-bundle", info["ca_bundle"], stdin=tenant["client_secret"] + "\n",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert (home / "secret.key").stat().st_mode & 0o777 == 0o600
    tested = run(home, "tenant", "test", "contoso")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    synced = run(home, "sync", "--all")
    assert synced.returncode == 0, synced.stderr
    rows = json.loads(run(home, "balance", "--format", "json").stdout)
    truth = {
        sku["sku_id"]: sku
        for sku in ground_truth(emulator.world.tenants[tenant["tenant_id"]])["skus"]
    }
    assert {row["sku_id"]: {k: row[k] for k in SKU_NUMBERS} for row in rows} == {
        sku: {k: facts[k] for k in SKU_NUMBERS} for sku, facts in truth.items()
    }
    database = b"".join(p.read_bytes() for p in home.glob("licensewatch.db*"))
    assert tenant["client_id"].encode() in database
    assert tenant["client_secret"].encode() not in database
    for output in (added, tested, synced):
        assert tenant["client_secret"] not in output.stdout + output.stderr

    (home / "secret.key").chmod(0o644)
    refused = run(home, "tenant", "test", "contoso")
    assert refused.returncode == 2
    assert "refusing to use key file" in refused.stderr
    assert "chmod 600" in refused.stderr


@pytest.mark.slow
def test_demo_is_idempotent(tmp_path: Path) -> None:
    first = run(tmp_path, "demo", "--users", "300", "--no-serve")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "Added tenant demo" in first.stdout
    assert "Licence balance" in first.stdout
    second = run(tmp_path, "demo", "--users", "300", "--no-serve")
    assert second.returncode == 0, second.stdout + second.stderr
    assert "Reusing tenant demo" in second.stdout
    listed = json.loads(run(tmp_path, "tenant", "list", "--format", "json").stdout)
    assert [t["name"] for t in listed] == ["demo", "demo-subsidiary"]
