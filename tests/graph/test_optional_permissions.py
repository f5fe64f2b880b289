"""`tenant test` shows each optional permission as ✓ or !, what it unlocks and the Entra step."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from licensewatch.emulator.seed import build_world
from licensewatch.emulator.server import RunningEmulator
from licensewatch.graph.connection import ClientSecretCredential, GraphConnection
from licensewatch.graph.diagnostics import CheckStatus, DiagnosticReport, diagnose

MakeEmulator = Callable[..., RunningEmulator]
KEYS = ("reports_permission", "report_settings_permission")


def _run(
    make_emulator: MakeEmulator, tmp_path: Path, roles: set[str], concealed: bool
) -> DiagnosticReport:
    world = build_world(tenants=1, users=10, seed=5, cert_dir=tmp_path)
    tenant = next(iter(world.tenants.values()))
    app = next(iter(tenant.apps.values()))
    app.roles = {"Directory.Read.All", "User.Read.All", *roles}
    tenant.usage.concealed = concealed
    running = make_emulator(world)
    secret = next(s.value for s in app.secrets if s.display_name == "collector")
    connection = GraphConnection(
        tenant.tenant_id,
        app.client_id,
        ClientSecretCredential(secret),
        authority_host=running.base_url,
        graph_endpoint=running.base_url,
        ca_bundle=str(running.ca_bundle),
    )
    return diagnose(connection)


def test_granted_optional_permissions_are_ticked(
    make_emulator: MakeEmulator, tmp_path: Path
) -> None:
    roles = {"Reports.Read.All", "ReportSettings.Read.All"}
    report = _run(make_emulator, tmp_path, roles, concealed=False)
    checks = {c.key: c for c in report.checks}
    assert report.ok
    for key in KEYS:
        assert checks[key].status is CheckStatus.OK
        assert "unlocks" in checks[key].detail
    assert checks["concealed_names"].status is CheckStatus.OK


def test_missing_optional_permissions_warn_with_the_entra_step(
    make_emulator: MakeEmulator, tmp_path: Path
) -> None:
    report = _run(make_emulator, tmp_path, set(), concealed=False)
    checks = {c.key: c for c in report.checks}
    assert report.ok  # optional: the licence sync works without them
    for key, role in zip(KEYS, ("Reports.Read.All", "ReportSettings.Read.All"), strict=True):
        assert checks[key].status is CheckStatus.WARN
        assert "would unlock" in checks[key].detail
        fix = checks[key].fix or ""
        assert f"Application permissions > {role}" in fix
        assert "Grant admin consent" in fix
    assert "concealed_names" not in checks


def test_concealed_names_name_the_admin_center_setting(
    make_emulator: MakeEmulator, tmp_path: Path
) -> None:
    report = _run(make_emulator, tmp_path, {"ReportSettings.Read.All"}, concealed=True)
    check = next(c for c in report.checks if c.key == "concealed_names")
    assert check.status is CheckStatus.WARN
    assert "Settings > Org settings > Services > Reports" in (check.fix or "")
