"""Products named by SKU id, part number or friendly name; friendly names in `changes`; wording."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from database_fixtures import add_tenant
from licensewatch.cli import app
from licensewatch.cli.sync import cause_and_fix, summary
from licensewatch.domain.schedule import SyncKind
from licensewatch.storage.database import make_engine, session_scope
from licensewatch.storage.models import ChangeKind, LicenceChange, SyncStatus, utcnow
from licensewatch.storage.models.intelligence import CatalogProduct
from licensewatch.sync.outcome import SyncResult
from web_seed import E3, E5, seed_inventory

GCC_HIGH = "aea38a85-9bd5-4981-aa00-616b411205bf"
GCC = "535a3a29-c5f0-42fe-8215-d3b9e1f38c4a"
DOD = "d61d61cc-f992-433f-a577-5bd016037eeb"


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A real SQLite database with ENTERPRISEPACK (Office 365 E3), E5 and a recorded change."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("LICENSEWATCH_HOME", str(home))
    monkeypatch.delenv("LICENSEWATCH_DATABASE_URL", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    engine = make_engine(f"sqlite:///{home / 'licensewatch.db'}")
    tenant_pk = add_tenant(engine, "contoso")
    run_id = seed_inventory(engine, "contoso")
    with session_scope(engine) as session:
        session.add(
            LicenceChange(tenant_id=tenant_pk, run_id=run_id, occurred_at=utcnow(),
                          kind=ChangeKind.LICENCE_REMOVED, user_id="u1",
                          user_principal_name="ann@contoso.example", sku_id=E3)
        )  # fmt: skip
    engine.dispose()
    return CliRunner()


def run(cli: CliRunner, *args: str, code: int = 0) -> Result:
    result = cli.invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result


def test_prices_by_name_part_number_and_sku_id(cli: CliRunner) -> None:
    assert "Office 365 E3: 20.00 EUR" in run(cli, "prices", "set", "Office 365 E3", "20.00").stdout
    run(cli, "prices", "set", "office 365 e5", "30.00")  # any case, as typed
    run(cli, "prices", "set", E5, "31.00")
    run(cli, "prices", "set", "ENTERPRISEPACK", "21.00")
    prices = json.loads(run(cli, "prices", "list", "--format", "json").stdout)
    assert {(p["name"], p["part_number"], p["amount"]) for p in prices} == {
        ("Office 365 E3", "ENTERPRISEPACK", "21.00"),
        ("Office 365 E5", "ENTERPRISEPREMIUM", "31.00"),
    }
    excluded = run(cli, "findings", "exclude", "Office 365 E5").stdout
    assert excluded == "Office 365 E5 is excluded (everywhere).\n"
    run(cli, "findings", "include", "Office 365 E5")


def test_an_ambiguous_or_unknown_name_is_refused_with_the_candidates(cli: CliRunner) -> None:
    run(cli, "catalog", "set-name", "ENTERPRISEPACK", "Office Suite")
    run(cli, "catalog", "set-name", "ENTERPRISEPREMIUM", "Office Suite")
    refused = run(cli, "prices", "set", "Office Suite", "20", code=2)
    assert "the name 'Office Suite' belongs to 2 products" in refused.stderr
    assert f"ENTERPRISEPACK ({E3})" in refused.stderr
    assert f"ENTERPRISEPREMIUM ({E5})" in refused.stderr
    unknown = run(cli, "prices", "set", "Office 365 E7", "20", code=2)
    assert "unknown product 'Office 365 E7'" in unknown.stderr


def test_changes_show_friendly_names(cli: CliRunner) -> None:
    table = run(cli, "changes").stdout
    assert "Office 365 E3" in table
    assert "ENTERPRISEPACK" not in table
    rows = json.loads(run(cli, "changes", "--format", "json").stdout)
    assert [(r["product"], r["sku_part_number"]) for r in rows] == [
        ("Office 365 E3", "ENTERPRISEPACK")
    ]


def test_a_bad_duration_keeps_its_quotes(cli: CliRunner) -> None:
    refused = run(cli, "changes", "--since", "banana", code=2)
    assert "error: 'banana' is not a duration" in refused.stderr


def test_sync_summary_words_and_plurals() -> None:
    delta = SyncResult(1, SyncStatus.COMPLETED, SyncKind.DELTA, users_read=0, pages_read=1,
                       requests=1, retries=1, duration_ms=400, changes=1)  # fmt: skip
    assert summary(delta) == (
        "delta sync: 0 changed users in 1 page, 0.4 s (1 request, 1 retry); 1 licence change"
    )
    full = SyncResult(2, SyncStatus.COMPLETED, SyncKind.FULL, users_read=12000, pages_read=12,
                      requests=14, retries=0, duration_ms=3100)  # fmt: skip
    assert summary(full).startswith("full sync: 12,000 users in 12 pages, 3.1 s (14 requests")


def test_the_failed_sync_hint_names_the_tenant() -> None:
    failed = SyncResult(3, SyncStatus.FAILED, error_message="connection reset by peer")
    cause, fix = cause_and_fix(failed, "contoso")
    assert cause == "connection reset by peer"
    assert fix == "run `licensewatch tenant test contoso` for a step-by-step diagnosis"


def test_the_tenants_product_wins_over_catalogue_namesakes(cli: CliRunner) -> None:
    engine = make_engine(f"sqlite:///{Path(os.environ['LICENSEWATCH_HOME']) / 'licensewatch.db'}")
    with session_scope(engine) as session:
        session.add_all(
            [
                CatalogProduct(sku_id=GCC_HIGH, part_number="ENTERPRISEPACK_USGOV_GCCHIGH",
                               name="Office 365 E3", imported_at=utcnow()),
                CatalogProduct(sku_id=GCC, part_number="ENTERPRISEPACK_GOV",
                               name="Office 365 G3", imported_at=utcnow()),
                CatalogProduct(sku_id=DOD, part_number="ENTERPRISEPACK_USGOV_DOD",
                               name="Office 365 G3", imported_at=utcnow()),
            ]
        )  # fmt: skip
    engine.dispose()
    assert "Office 365 E3: 20.00" in run(cli, "prices", "set", "Office 365 E3", "20.00").stdout
    prices = json.loads(run(cli, "prices", "list", "--format", "json").stdout)
    assert [p["part_number"] for p in prices] == ["ENTERPRISEPACK"]
    refused = run(cli, "prices", "set", "office 365 g3", "20", code=2).stderr
    assert "belongs to 2 products" in refused
    assert "ENTERPRISEPACK_GOV" in refused
    assert "ENTERPRISEPACK_USGOV_DOD" in refused
