"""`balance`, `status` and `tenant list` print the same bytes via sqlite3 as via SQLAlchemy."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from emulator_fixtures import EmulatorFactory
from licensewatch.cli import app
from licensewatch.cli import database as cli_database
from licensewatch.emulator import mutations
from licensewatch.storage import clock
from licensewatch.storage.sqlite_reader import open_snapshot

READS = (
    ("balance",),
    ("balance", "--wide"),
    ("balance", "--format", "json"),
    ("balance", "--format", "csv"),
    ("balance", "--tenant", " contoso ", "--format", "csv"),
    ("balance", "--tenant", "nobody"),
    ("status",),
    ("status", "--wide"),
    ("status", "--format", "json"),
    ("status", "--format", "csv"),
    ("tenant", "list"),
    ("tenant", "list", "--format", "json"),
)
NOW = datetime(2026, 12, 3, 12, 0, 30, 123456, tzinfo=UTC)


def _add(runner: CliRunner, info: dict[str, Any], name: str, secret: str) -> None:
    tenant = info["tenants"][0]
    added = runner.invoke(
        app,
        [
            "tenant", "add", name, "--tenant-id", tenant["domain"], "--client-id",
            tenant["client_id"], "--client-secret-stdin", "--authority-host",
            info["authority_host"], "--graph-endpoint", info["graph_endpoint"], "--ca-bundle",
            info["ca_bundle"],
        ],
        input=secret + "\n",
    )  # fmt: skip
    assert added.exit_code == 0, added.output


def test_each_quick_read_is_byte_identical_both_ways(
    make_emulator: EmulatorFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LICENSEWATCH_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("LICENSEWATCH_DATABASE_URL", raising=False)
    monkeypatch.delenv("LICENSEWATCH_SECRET_KEY", raising=False)
    monkeypatch.setenv("COLUMNS", "100")
    emulator = make_emulator(scenario="enterprise", users=300, seed=5)
    runner = CliRunner()
    info = emulator.info
    _add(runner, info, "contoso", info["tenants"][0]["client_secret"])
    _add(runner, info, "broken", "abC8Q~this.is.not.the.right.secret.value")
    assert runner.invoke(app, ["sync", "contoso"]).exit_code == 0
    assert runner.invoke(app, ["sync", "broken"]).exit_code == 1  # status shows its error
    # A delta that adds and removes users: `status` shows the count the syncs keep.
    (tenant,) = [
        t for t in emulator.world.tenants.values() if t.domain == info["tenants"][0]["domain"]
    ]
    for name in ("Quinn Quick", "Rory Quick", "Sam Quick"):
        mutations.hire(tenant, {"displayName": name})
    mutations.delete(tenant, next(user.id for _, user in tenant.iter_users_from(0)))
    delta = runner.invoke(app, ["sync", "contoso"])
    assert delta.exit_code == 0, delta.output
    assert "delta sync" in delta.output, delta.output
    monkeypatch.setattr(clock, "utcnow", lambda: NOW)  # `status` prints ages relative to now

    used: list[bool] = []

    def spy(url: str, home: Path | None) -> sqlite3.Connection | None:
        snapshot = open_snapshot(url, home)
        used.append(snapshot is not None)
        return snapshot

    for args in READS:
        monkeypatch.setattr(cli_database, "open_snapshot", spy)
        fast = runner.invoke(app, list(args))
        assert used.pop() is True, args  # the sqlite3 path did read
        monkeypatch.setattr(cli_database, "open_snapshot", lambda url, home: None)
        slow = runner.invoke(app, list(args))
        assert (fast.exit_code, fast.stdout, fast.stderr) == (
            slow.exit_code,
            slow.stdout,
            slow.stderr,
        ), args
        expected = 2 if "nobody" in args else 0
        assert fast.exit_code == expected, (args, fast.output)
        assert fast.stdout or "nobody" in args, args
        if args[:2] == ("status", "--format"):
            assert "broken" in fast.stdout, args
            assert "contoso" in fast.stdout, args
        if args == ("status", "--format", "json"):
            users = {row["name"]: row["users"] for row in json.loads(fast.stdout)}
            assert (
                users
                == {"broken": 0, "contoso": tenant.user_count()}
                == {
                    "broken": 0,
                    "contoso": 302,
                }
            )
