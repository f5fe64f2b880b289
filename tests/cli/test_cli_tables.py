"""`balance`, `status`, `costs`, `changes`, `prices list` at 80 and 120 columns, `--wide`, JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from database_fixtures import add_tenant
from licensewatch.storage.database import make_engine, session_scope
from licensewatch.storage.models import Sku, SyncRun, SyncStatus, Tenant, utcnow
from web_seed import seed_inventory

FREE = "f30db892-07e9-47e9-837c-80727f46fd3d"  # FLOW_FREE: a huge, over-assigned free SKU
FABRIC = "a403ebcc-fae0-4ca2-8c8c-7a907fd6c235"
ODD = "0d0d0d0d-0000-4000-8000-000000000001"


def run(home: Path, *args: str, columns: int = 80) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LICENSEWATCH_")}
    env |= {"LICENSEWATCH_HOME": str(home), "COLUMNS": str(columns)}
    result = subprocess.run(
        [sys.executable, "-m", "licensewatch", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two tenants, big numbers, a long unknown part number and a manual sync that failed."""
    home = tmp_path_factory.mktemp("tables") / "home"
    home.mkdir()
    engine = make_engine(f"sqlite:///{home / 'licensewatch.db'}")
    for name in ("contoso", "fabrikam-international"):
        tenant_pk = add_tenant(engine, name)
        seed_inventory(engine, name)
        with session_scope(engine) as session:
            session.add_all(
                [
                    Sku(tenant_id=tenant_pk, sku_id=FREE, sku_part_number="FLOW_FREE",
                        enabled=10_000, consumed=12_661, direct_assigned=12_661),
                    Sku(tenant_id=tenant_pk, sku_id=FABRIC, sku_part_number="POWER_BI_STANDARD",
                        enabled=1_000_000, consumed=3_456, direct_assigned=3_456),
                    Sku(tenant_id=tenant_pk, sku_id=ODD,
                        sku_part_number="CONTOSO_VERY_LONG_PART_NUMBER_WITHOUT_A_NAME",
                        enabled=123_456, warning=7_890, suspended=4_321, consumed=99_999,
                        direct_assigned=88_888, group_assigned=11_111),
                ]
            )  # fmt: skip
    with session_scope(engine) as session:
        tenant = session.query(Tenant).filter(Tenant.name == "contoso").one()
        now = utcnow()
        session.add(
            SyncRun(tenant_id=tenant.id, status=SyncStatus.FAILED, kind="full",
                    started_at=now - timedelta(seconds=1), finished_at=now,
                    error_kind="GraphUnavailableError",
                    error_message="Microsoft Graph answered 503 three times")
        )  # fmt: skip
    engine.dispose()
    return home


def assert_fits(output: str, width: int) -> None:
    assert output.strip()
    widest = max(len(line) for line in output.splitlines())
    assert widest <= width, output
    assert "…" not in output, output  # nothing cut


@pytest.mark.parametrize("columns", [80, 120])
def test_balance_fits_with_whole_numbers(home: Path, columns: int) -> None:
    output = run(home, "balance", columns=columns)
    assert_fits(output, columns)
    for number in ("1,000,000", "131,346", "12,661", "99,999", "31,347"):
        assert number in output
    assert "Automate" in output  # the friendly name, maybe folded over two lines
    assert "contoso: Office 365 E3 (1)" in output.replace("\n", " ")  # whose over-assignment
    single = run(home, "balance", "--tenant", "contoso", columns=columns)
    assert_fits(single, columns)
    assert "100,050" in single  # its assigned total
    assert "total (3 SKUs)" in single  # the paid ones: free SKUs are listed apart, never summed


def test_balance_wide_shows_every_column(home: Path) -> None:
    narrow = run(home, "balance", "--tenant", "contoso", columns=80)
    wide = run(home, "balance", "--tenant", "contoso", "--wide", columns=80)
    for header in ("SKU", "grace", "trial", "lapsed", "direct", "via groups", "renewal", "used"):
        assert header in wide
    assert "via groups" not in narrow
    assert "CONTOSO_VERY_LONG_PART_NUMBER_WITHOUT_A_NAME" in wide
    assert "88,888" in wide
    assert "11,111" in wide


@pytest.mark.parametrize("columns", [80, 120])
def test_status_costs_changes_prices_fit(home: Path, columns: int) -> None:
    status = run(home, "status", columns=columns)
    assert_fits(status, columns)
    assert "GraphUnavailableError" in status  # the error column is never dropped
    for args in (
        ("costs",),
        ("changes",),
        ("prices", "list"),
        ("tenant", "list"),
        ("catalog", "list"),
    ):
        assert_fits(run(home, *args, columns=columns), columns)


def test_status_shows_the_error_of_a_failed_manual_sync(home: Path) -> None:
    status = run(home, "status", "--wide", columns=80)
    row = next(line for line in status.splitlines() if "contoso" in line)
    assert "GraphUnavailableError: Microsoft Graph answered 503 three times" in row
    other = next(line for line in status.splitlines() if "fabrikam" in line)
    assert "Graph" not in other


def test_json_of_each_command(home: Path) -> None:
    balance = json.loads(run(home, "balance", "--format", "json"))
    assert {row["sku_part_number"] for row in balance} >= {"FLOW_FREE", "POWER_BI_STANDARD"}
    status = json.loads(run(home, "status", "--format", "json"))
    assert [row["name"] for row in status] == ["contoso", "fabrikam-international"]
    assert status[0]["last_error"].startswith("GraphUnavailableError")
    costs = json.loads(run(home, "costs", "--format", "json"))
    assert [c["tenant"] for c in costs] == ["contoso", "fabrikam-international"]
