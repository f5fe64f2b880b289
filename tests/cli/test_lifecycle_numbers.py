"""Subscription states, trials, Company and free SKUs read end to end: sync over TLS, then the CLI
and the REST API must show the numbers the emulator's truth means (lapsed, trial, usable units)."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner, Result

from emulator_fixtures import EmulatorFactory
from licensewatch.cli import app
from licensewatch.domain.balance import BALANCE_COLUMNS
from licensewatch.emulator import lifecycle
from licensewatch.emulator.server import RunningEmulator
from licensewatch.emulator.state import Tenant
from licensewatch.emulator.truth import ground_truth
from licensewatch.services.accounts import create_account, create_token
from licensewatch.storage.database import make_engine
from licensewatch.storage.models.accounts import Role
from licensewatch.web import create_app
from web_fixtures import SyncRecorder, make_settings, sign_in
from web_server import serve_in_thread

NAME = "lifecycle"
# The truth's meaning of each SKU, compared field by field with what every view shows.
MEANING = (
    "section", "capability_status", "enabled", "warning", "suspended", "locked_out", "consumed",
    "purchased", "grace", "trial", "available", "unassigned", "lapsed_holders",
    "over_assigned_units", "next_renewal", "renewal_in_grace", "trial_ends",
)  # fmt: skip


@dataclass
class Synced:
    emulator: RunningEmulator
    tenant: Tenant
    database_url: str
    runner: CliRunner

    def __call__(self, *args: str, input: str | None = None) -> Result:
        result = self.runner.invoke(app, list(args), input=input)
        assert "Traceback" not in result.output, result.output
        assert result.exit_code == 0, result.output
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "--format", "json").stdout)


@pytest.fixture
def synced(
    make_emulator: EmulatorFactory,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Synced:
    monkeypatch.setenv("LICENSEWATCH_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LICENSEWATCH_DATABASE_URL", database_url)
    monkeypatch.delenv("LICENSEWATCH_SECRET_KEY", raising=False)
    emulator = make_emulator(scenario="lifecycle", users=40, seed=3)
    info = emulator.info
    facts = info["tenants"][0]
    run = Synced(emulator, emulator.world.tenants[facts["tenant_id"]], database_url, CliRunner())
    run(
        "tenant", "add", NAME, "--tenant-id", facts["domain"], "--client-id", facts["client_id"],
        "--client-secret-stdin", "--authority-host", info["authority_host"],
        "--graph-endpoint", info["graph_endpoint"], "--ca-bundle", info["ca_bundle"],
        input=facts["client_secret"] + "\n",
    )  # fmt: skip
    assert "✓ lifecycle" in run("sync", NAME).stdout
    for part, amount in (("SPE_E5", "57"), ("VISIOCLIENT", "15"), ("SHAREPOINTSTORAGE", "0.2")):
        run("prices", "set", part, amount, "--currency", "EUR")
    return run


def _truth(tenant: Tenant) -> dict[str, dict[str, Any]]:
    return {s["sku_part_number"]: s for s in ground_truth(tenant)["skus"]}


def _by_part(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["sku_part_number"]: row for row in rows}


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _meaning(row: dict[str, Any]) -> dict[str, Any]:
    return {key: row[key] for key in MEANING}


def test_balance_reads_states_trials_company_and_free_skus(synced: Synced) -> None:
    truth = _truth(synced.tenant)
    rows = _by_part(synced.json("balance"))
    assert set(rows) == set(truth)
    for part, row in rows.items():
        assert list(row) == list(BALANCE_COLUMNS)
        assert _meaning(row) == _meaning(truth[part]), part

    # Microsoft's own subscribedSkus example: Suspended, enabled 0, suspended 25, consumed 14.
    visio = rows[lifecycle.SUSPENDED_SKU]
    assert (visio["capability_status"], visio["enabled"], visio["suspended"]) == (
        "Suspended",
        0,
        25,
    )
    assert visio["consumed"] == 14
    assert (visio["lapsed"], visio["lapsed_holders"], visio["over_assigned"]) == (True, 14, False)
    assert visio["next_renewal"] is None  # a Suspended subscription's date is its deletion
    assert visio["lapsed_until"] is not None
    project = rows[lifecycle.LOCKED_OUT_SKU]
    assert project["capability_status"] == "LockedOut"
    assert (project["lapsed"], project["over_assigned"], project["next_renewal"]) == (
        True,
        False,
        None,
    )
    assert project["lapsed_holders"] == project["consumed"] > 0

    # Paid and trial subscriptions of one SKU: trial seats are never purchased nor unassigned.
    e5 = rows[lifecycle.TRIAL_SKU]
    assert (e5["trial"], e5["unassigned"]) == (25, 0)
    assert e5["purchased"] == e5["consumed"] - 2
    assert e5["available"] == e5["purchased"] + e5["trial"] - e5["consumed"] == 23
    assert e5["next_renewal"] != e5["trial_ends"]

    # Enabled, Warning and Deleted subscriptions: the grace period ends first; Deleted never counts.
    e3 = rows[lifecycle.DELETED_SUB_SKU]
    assert (e3["grace"], e3["renewal_in_grace"], e3["suspended"]) == (3, True, 0)
    assert e3["enabled"] == e3["consumed"] + 4
    deleted = rows[lifecycle.DELETED_SKU]
    assert deleted["capability_status"] == "Deleted"
    assert (deleted["lapsed"], deleted["over_assigned"], deleted["purchased"]) == (False, False, 0)

    company, free = rows[lifecycle.COMPANY_SKU], rows[lifecycle.FREE_SKU]
    assert (company["section"], company["enabled"], company["unassigned"]) == ("company", 1024, 0)
    assert free["section"] == "free"
    assert free["consumed"] > free["enabled"]
    assert (free["over_assigned"], free["over_assigned_units"]) == (False, 0)

    # The CSV has the same columns and values: ISO dates with offset, booleans true/false.
    text = synced("balance", "--tenant", NAME, "--format", "csv").stdout
    records = list(csv.DictReader(io.StringIO(text)))
    assert list(records[0]) == list(BALANCE_COLUMNS)
    for record in records:
        assert record == {k: _text(v) for k, v in rows[record["sku_part_number"]].items()}
    assert _by_part(records)[lifecycle.DELETED_SUB_SKU]["next_renewal"].endswith("+00:00")

    table = synced("balance").stdout
    assert "Over-assigned:" not in table  # nothing is short of seats: VISIO lapsed, Flow is free
    assert "Lapsed with holders:" in table
    assert "Free and tenant-wide products" in table


def test_findings_and_costs_read_the_same_numbers(synced: Synced) -> None:
    truth = _truth(synced.tenant)
    sku = {part: s["sku_id"] for part, s in truth.items()}
    findings = {f["rule"]: f for f in synced.json("findings")}

    def units(rule: str) -> dict[str, int]:
        return {a["key"]: a["units"] for a in findings[rule]["affected"]}

    assert units("over_assigned") == {}  # never "buy seats" for lapsed or free products
    assert units("lapsed_products") == {
        s["sku_id"]: s["lapsed_holders"] for s in truth.values() if s["lapsed_holders"]
    }
    assert units("lapsed_products")[sku[lifecycle.SUSPENDED_SKU]] == 14
    assert "renew" in findings["lapsed_products"]["fix"].lower()
    spare = units("unassigned_seats")
    assert spare == {s["sku_id"]: s["unassigned"] for s in truth.values() if s["unassigned"]}
    for part in (lifecycle.TRIAL_SKU, lifecycle.COMPANY_SKU, lifecycle.FREE_SKU):
        assert sku[part] not in spare, part
    lapsed_money = findings["lapsed_products"]["monthly_cost"]["monthly"]
    assert Decimal(lapsed_money["EUR"]) == 15 * 14  # the Visio holders to renew or move

    costs = synced.json("costs", "--tenant", NAME)[0]
    products = {p["sku_id"]: p for p in costs["products"]}
    paid = {s["sku_id"]: s for s in truth.values() if s["section"] == "paid"}
    assert set(products) == set(paid)  # free and tenant-wide SKUs are not priced as seats
    for sku_id, product in products.items():
        expected = (paid[sku_id]["purchased"], paid[sku_id]["consumed"], paid[sku_id]["unassigned"])
        assert (product["purchased"], product["assigned"], product["unassigned"]) == expected
    e5 = products[sku[lifecycle.TRIAL_SKU]]
    assert e5["unassigned_cost"]["monthly"] == {}  # 23 spare trial seats cost nothing


def test_api_balance_totals_add_up_and_renewals_say_what_the_date_means(
    synced: Synced, tmp_path: Path
) -> None:
    engine = make_engine(synced.database_url)
    try:
        create_account(engine, "alice", Role.ADMIN, "admin-password-123456")
        token = create_token(engine, "alice", "numbers")
        web = create_app(make_settings(tmp_path / "web"), engine=engine, sync=SyncRecorder())
        with (
            serve_in_thread(web) as base_url,
            httpx.Client(base_url=base_url, headers={"authorization": f"Bearer {token}"}) as api,
        ):
            balance = api.get("/api/v1/balance", params={"tenant": NAME}).json()
            subscriptions = api.get("/api/v1/subscriptions", params={"tenant": NAME}).json()
            with httpx.Client(base_url=base_url) as browser:
                sign_in(browser, "alice", "admin-password-123456")
                dashboard = browser.get("/", params={"tenant": NAME}).text
                renewals = browser.get("/renewals", params={"tenant": NAME}).text
                report = browser.get("/report", params={"format": "html", "tenant": NAME}).text
    finally:
        engine.dispose()
    cli_rows = synced.json("balance", "--tenant", NAME)
    assert balance["rows"] == sorted(cli_rows, key=lambda r: r["name"].lower())  # one schema
    paid = [r for r in balance["rows"] if r["section"] == "paid"]
    totals = balance["totals"]
    for key in ("purchased", "grace", "trial", "consumed", "available", "unassigned"):
        assert totals[key] == sum(r[key] for r in paid), key
    assert totals["available"] == totals["purchased"] + totals["trial"] - totals["consumed"]
    assert (totals["over_assigned"], totals["lapsed"]) == (0, 2)
    assert (totals["free_products"], totals["company_products"]) == (2, 1)

    # The pages show the same numbers: cards equal the API's totals, free and Company SKUs apart.
    for card in ("purchased", "consumed", "available"):
        shown = re.search(rf'id="total-{card}">([^<]+)<', dashboard)
        assert shown is not None
        assert int(re.sub(r"\D", "", shown.group(1))) == totals[card], card
    truth = _truth(synced.tenant)
    for part in (lifecycle.COMPANY_SKU, lifecycle.FREE_SKU):
        assert f'data-sku="{truth[part]["sku_id"]}" data-section=' in dashboard
    assert "lapsed, 14 holders" in dashboard
    assert renewals.count('data-event="deleted"') == 2
    assert "Balance of paid products" in report
    assert "lapsed, 14 holders" in report

    events = {(s["status"], s["trial"]): s["next_event"] for s in subscriptions}
    assert events == {
        ("Enabled", False): "renews",
        ("Enabled", True): "trial ends",
        ("Warning", False): "grace ends",
        ("Suspended", False): "deleted",
        ("LockedOut", False): "deleted",
        ("Deleted", False): None,
    }
