"""Employees' hostile text through a real sync (both engines), the CLI, pages and every export."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from hostile_tenant import USER_TEXT_FIELDS, HostileCli, cli_home, signed_in_web, sqlite_cli_home
from hostile_text import (
    FORBIDDEN,
    GRAPH_SAMPLES,
    check_csv,
    check_xlsx,
    check_zip,
    graph_hostile,
)
from hypothesis import HealthCheck, given, settings
from sqlalchemy import select

from emulator_fixtures import EmulatorFactory
from licensewatch.domain.text import clean_text, is_clean
from licensewatch.emulator import mutations
from licensewatch.settings import Settings
from licensewatch.storage.database import session_scope
from licensewatch.storage.models import Group, Sku, User
from licensewatch.storage.writers import USER_COLUMNS

__all__ = ["cli_home", "sqlite_cli_home"]  # fixtures, imported for pytest

FORMULA = '=HYPERLINK("http://x","y")'
# What a page or a terminal must never show: controls other than the line breaks of HTML itself.
_NEVER_SHOWN = FORBIDDEN - {"\n", "\t", "\r"}


def _shown_safely(where: str, text: str) -> None:
    bad = sorted({f"U+{ord(c):04X}" for c in text if c in _NEVER_SHOWN})
    assert not bad, f"{where} shows {bad}"


def test_a_formula_in_a_department_reaches_no_workbook(
    make_emulator: EmulatorFactory, cli_home: Settings, tmp_path: Path
) -> None:
    cli = HostileCli(make_emulator(users=40, seed=11, scenario="messy"))
    tenant = cli.tenant
    licensed = [u for _, u in tenant.iter_users_from(0) if u.assigned_sku_ids()]
    mutations.update(tenant, licensed[0].id, {"department": FORMULA})
    group = next(g for g in tenant.groups.values() if g.display_name == "LIC-PowerBI-Pro")
    group.display_name = FORMULA  # a self-service group: its owner names it
    cli.add_and_sync()
    # After the baseline: a user named with a formula start, and a licence via the group.
    mutations.hire(
        tenant, {"displayName": "Dash", "userPrincipalName": f"-2+3@{tenant.domain}"}, ["FLOW_FREE"]
    )
    member = next(u for u in licensed[1:] if u.id not in group.member_ids)
    mutations.add_member(tenant, group.id, member.id)
    cli.ok("sync", "contoso")

    workbook = tmp_path / "report.xlsx"
    cli.ok("report", "--format", "xlsx", "--output", str(workbook))
    cells = [v for row in check_xlsx("cli report.xlsx", workbook.read_bytes()) for v in row]
    assert "'" + FORMULA in cells  # cost_breakdown: the department, as text
    archive = tmp_path / "report.zip"
    cli.ok("report", "--format", "csv", "--output", str(archive))
    breakdown = check_zip("cli report.zip", archive.read_bytes())["cost_breakdown.csv"]
    assert "'" + FORMULA in {cell for row in breakdown for cell in row}

    changes = check_csv("cli changes.csv", cli.ok("changes", "--format", "csv").stdout)
    header = changes[0]
    upns = {row[header.index("user_principal_name")] for row in changes[1:]}
    groups = {row[header.index("group_name")] for row in changes[1:]}
    assert f"'-2+3@{tenant.domain}" in upns
    assert "'" + FORMULA in groups
    check_csv("cli costs.csv", cli.ok("costs", "--format", "csv").stdout)
    check_csv("cli balance.csv", cli.ok("balance", "--format", "csv").stdout)
    assert FORMULA in cli.ok("costs").stdout  # the table shows the text as it is

    with signed_in_web(cli_home) as (client, _engine):
        for path in ("/report?format=xlsx", "/exports/users.xlsx", "/exports/balance.xlsx"):
            response = client.get(path)
            assert response.status_code == 200, path
            check_xlsx(path, response.content)
        web_cells = check_xlsx("web report", client.get("/report?format=xlsx").content)
        assert "'" + FORMULA in [v for row in web_cells for v in row]
        check_zip("web report.zip", client.get("/report?format=csv").content)
        users_csv = client.get("/exports/users.csv")
        assert users_csv.status_code == 200
        rows = check_csv("web users.csv", users_csv.text)
        assert "'" + FORMULA in {cell for row in rows for cell in row}


def test_hostile_text_in_every_user_field(
    make_emulator: EmulatorFactory, cli_home: Settings, tmp_path: Path
) -> None:
    cli = HostileCli(make_emulator(users=40, seed=3, scenario="messy"))
    tenant = cli.tenant
    users = [u for _, u in tenant.iter_users_from(0) if u.assigned_sku_ids()]
    assert len(users) >= len(GRAPH_SAMPLES)
    for user, text in zip(users, GRAPH_SAMPLES, strict=False):
        mutations.update(tenant, user.id, dict.fromkeys(USER_TEXT_FIELDS, text))
    for group, text in zip(tenant.groups.values(), GRAPH_SAMPLES, strict=False):
        group.display_name = text + " group"
    sku_id = next(iter(tenant.products))
    tenant.products[sku_id] = dataclasses.replace(
        tenant.products[sku_id], part_number="SKU\x00\r\n\u202e\x1b[8m"
    )
    cli.add_and_sync()  # on PostgreSQL a NUL in one department used to fail every sync

    with signed_in_web(cli_home) as (client, engine):
        with session_scope(engine, write=False) as session:
            stored = [
                value
                for user in session.scalars(select(User))
                for value in (getattr(user, c) for c in USER_COLUMNS)
                if isinstance(value, str)
            ]
            stored += [g.display_name or "" for g in session.scalars(select(Group))]
            stored += [s.sku_part_number for s in session.scalars(select(Sku))]
            stored_ids = [u.id for u in session.scalars(select(User))]
        assert all(is_clean(value) for value in stored)
        assert "SKU [8m" in stored
        assert "[/bold]" in stored
        assert '=HYPERLINK("http://x","y")' in stored

        pages = ["/users", "/costs", "/findings", "/report", "/tenants/contoso"]
        pages += [
            f"/tenants/contoso/users/{user_id}" for user_id in stored_ids[: len(GRAPH_SAMPLES)]
        ]
        for path in pages:
            response = client.get(path)
            assert response.status_code == 200, (path, response.text[:500])
            _shown_safely(path, response.text)
        for dataset in ("users", "balance", "subscriptions"):
            check_csv(dataset, client.get(f"/exports/{dataset}.csv").text)
            check_xlsx(dataset, client.get(f"/exports/{dataset}.xlsx").content)
        check_xlsx("report.xlsx", client.get("/report?format=xlsx").content)
        check_zip("report.zip", client.get("/report?format=csv").content)
        api = client.get("/api/v1/costs")
        assert api.status_code == 200
        assert "\\u0000" not in api.text

    for command in (["costs"], ["balance"], ["findings"], ["changes"], ["prices", "list"]):
        output = cli.ok(*command).stdout
        _shown_safely(" ".join(command), output)
    costs = cli.ok("costs").stdout
    assert "[/bold]" in costs  # shown as text: not read as Rich markup
    assert "[8mhidden[0m" in costs  # the escape sequence lost its ESC
    for command in (["costs"], ["balance"], ["findings"], ["changes"]):
        check_csv(" ".join(command), cli.ok(*command, "--format", "csv").stdout)
    assert json.loads(cli.ok("costs", "--format", "json").stdout)


def test_any_text_in_any_user_field_is_stored_and_shown_safely(
    make_emulator: EmulatorFactory, sqlite_cli_home: Settings
) -> None:
    """Property: whatever an employee types into any Graph text field, after a (delta) sync no
    page, export or CLI table shows a control or bidi character or writes a formula (SQLite:
    the fixed samples above cover PostgreSQL)."""
    cli = HostileCli(make_emulator(users=30, seed=5, scenario="messy"))
    tenant = cli.tenant
    victim = next(u for _, u in tenant.iter_users_from(0) if u.assigned_sku_ids())
    cli.add_and_sync()

    with signed_in_web(sqlite_cli_home) as (client, engine):

        @settings(
            max_examples=12,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
            database=None,
        )
        @given(text=graph_hostile)
        def feed(text: str) -> None:
            mutations.update(tenant, victim.id, dict.fromkeys(USER_TEXT_FIELDS, text))
            cli.ok("sync", "contoso", "--mode", "delta")
            with session_scope(engine, write=False) as session:
                row = session.scalars(select(User).where(User.id == victim.id)).one()
                values = [getattr(row, c) for c in USER_COLUMNS]
            assert all(is_clean(v) for v in values if isinstance(v, str))
            assert values[USER_COLUMNS.index("department")] == clean_text(text)[:200]
            for path in (f"/tenants/contoso/users/{victim.id}", "/users", "/costs"):
                response = client.get(path)
                assert response.status_code == 200, path
                _shown_safely(path, response.text)
            check_csv("users.csv", client.get("/exports/users.csv").text)
            check_xlsx("users.xlsx", client.get("/exports/users.xlsx").content)
            check_xlsx("report.xlsx", client.get("/report?format=xlsx").content)
            for command in (["costs"], ["findings"]):
                _shown_safely(" ".join(command), cli.ok(*command).stdout)
                check_csv(" ".join(command), cli.ok(*command, "--format", "csv").stdout)

        feed()
