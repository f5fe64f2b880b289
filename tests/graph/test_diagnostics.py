"""diagnose() against the emulator: each setup mistake names its cause and the fixing step."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from starlette.applications import Starlette

from licensewatch.emulator.apps import App
from licensewatch.emulator.auth_routes import auth_routes
from licensewatch.emulator.faults import FaultInjector
from licensewatch.emulator.graph.routes import graph_routes
from licensewatch.emulator.options import EmulatorOptions
from licensewatch.emulator.seed import build_world
from licensewatch.emulator.server import RunningEmulator
from licensewatch.emulator.state import Tenant
from licensewatch.emulator.tokens import TokenIssuer
from licensewatch.graph.connection import ClientSecretCredential, GraphConnection
from licensewatch.graph.diagnostics import CheckStatus, DiagnosticReport, diagnose, write_check

MakeEmulator = Callable[..., RunningEmulator]
PROBES = ["organization", "subscribed_skus", "subscriptions", "users", "groups", "users_delta"]


class Setup:
    def __init__(self, make_emulator: MakeEmulator, tmp: Path) -> None:
        world = build_world(tenants=1, users=15, seed=5, cert_dir=tmp)
        options, issuer = EmulatorOptions(), TokenIssuer(world)
        self.injector = FaultInjector(options)
        routes = [
            *auth_routes(world, issuer, self.injector),
            *graph_routes(world, issuer, self.injector, options),
        ]
        self.running = make_emulator(world, app=Starlette(routes=routes))
        self.tenant: Tenant = next(iter(world.tenants.values()))
        self.app: App = next(iter(self.tenant.apps.values()))
        self.secret = next(s.value for s in self.app.secrets if s.display_name == "collector")

    def run(self, secret: str | None = None, base: str | None = None) -> DiagnosticReport:
        return diagnose(
            GraphConnection(
                self.tenant.tenant_id,
                self.app.client_id,
                ClientSecretCredential(secret or self.secret),
                authority_host=base or self.running.base_url,
                graph_endpoint=base or self.running.base_url,
                ca_bundle=str(self.running.ca_bundle),
            )
        )


@pytest.fixture
def setup(make_emulator: MakeEmulator, tmp_path: Path) -> Setup:
    return Setup(make_emulator, tmp_path)


def statuses(report: DiagnosticReport) -> dict[str, CheckStatus]:
    return {check.key: check.status for check in report.checks}


def test_a_correct_setup_passes_and_sign_in_activity_is_only_a_warning(setup: Setup) -> None:
    report = setup.run()
    found = statuses(report)
    assert report.ok
    assert all(found[key] is CheckStatus.OK for key in ["token", "consent", *PROBES])
    assert found["sign_in_activity"] is CheckStatus.WARN  # no AuditLog.Read.All: optional
    sign_in = next(c for c in report.checks if c.key == "sign_in_activity")
    assert "inactive-user findings will be unavailable" in sign_in.detail
    assert sign_in.fix
    assert "AuditLog.Read.All" in sign_in.fix
    assert report.tenant_id == setup.tenant.tenant_id
    # The seeded app also holds the optional report permissions (tests/graph/test_optional_...).
    assert report.roles == [
        "Directory.Read.All", "ReportSettings.Read.All", "Reports.Read.All", "User.Read.All",
    ]  # fmt: skip
    data = orjson.loads(orjson.dumps(report.to_dict()))
    assert data["ok"] is True
    assert data["checks"][0] == {
        "key": "token",
        "title": report.checks[0].title,
        "status": "ok",
        "detail": report.checks[0].detail,
        "fix": None,
    }


def test_sign_in_activity_ok_with_audit_log_permission(setup: Setup) -> None:
    setup.app.roles.add("AuditLog.Read.All")
    report = setup.run()
    assert statuses(report)["sign_in_activity"] is CheckStatus.OK


def test_wrong_secret_fails_at_the_token_and_skips_the_rest(setup: Setup) -> None:
    report = setup.run(secret="abC8Q~not-the-value")
    assert not report.ok
    token = report.checks[0]
    assert token.status is CheckStatus.FAIL
    assert "AADSTS7000215" in token.detail
    assert token.fix
    assert "Secret ID" in token.fix
    assert all(c.status is CheckStatus.SKIPPED for c in report.checks[1:])
    assert report.tenant_id is None


def test_missing_admin_consent_is_named(setup: Setup) -> None:
    setup.app.roles = set()
    report = setup.run()
    consent = report.checks[1]
    assert not report.ok
    assert consent.status is CheckStatus.FAIL
    assert "admin consent" in consent.detail
    assert consent.fix
    assert f"Grant admin consent for {setup.tenant.tenant_id}" in consent.fix
    assert statuses(report)["organization"] is CheckStatus.SKIPPED


def test_a_missing_permission_is_named(setup: Setup) -> None:
    setup.app.roles = {"User.Read.All"}
    report = setup.run()
    found = statuses(report)
    assert not report.ok
    assert found["consent"] is CheckStatus.WARN
    assert found["users"] is CheckStatus.OK
    skus = next(c for c in report.checks if c.key == "subscribed_skus")
    assert skus.status is CheckStatus.FAIL
    assert skus.fix
    assert "Directory.Read.All" in skus.fix
    assert "request-id" in skus.detail


def test_graph_outage_is_a_failure_with_the_request_id(setup: Setup) -> None:
    setup.injector.configure("503@/v1.0/subscribedSkus")
    report = setup.run()
    skus = next(c for c in report.checks if c.key == "subscribed_skus")
    assert skus.status is CheckStatus.FAIL
    assert "request-id" in skus.detail
    assert not report.ok


def test_unreachable_host_is_named(setup: Setup) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    report = setup.run(base=f"https://127.0.0.1:{port}")
    token = report.checks[0]
    assert token.status is CheckStatus.FAIL
    assert token.fix
    assert f"127.0.0.1:{port}" in token.fix


@pytest.mark.parametrize(
    ("code", "fix"),
    [
        ("7000112", "Enterprise applications"),
        ("53003", "Service principal sign-ins"),
        ("500011", "--cloud CLOUD"),
        ("90038", "national cloud"),
    ],
)
def test_token_errors_name_the_setup_step_that_fixes_them(
    setup: Setup, code: str, fix: str
) -> None:
    """Was: "Check the tenant ID, client ID and credential" for all four."""
    setup.injector.configure(f"token-error={code}")
    token = setup.run().checks[0]
    assert token.status is CheckStatus.FAIL
    assert f"AADSTS{code}" in token.detail
    assert token.fix
    assert fix in token.fix
    assert "Check the tenant ID, client ID and credential" not in token.fix


def test_write_check_reads_the_roles_and_names_the_entra_steps() -> None:
    connection = GraphConnection(
        tenant="contoso.onmicrosoft.com",
        client_id="3f2b9c7e-1a2b-4c3d-8e9f-0a1b2c3d4e5f",
        credential=ClientSecretCredential("abC8Q~first+secret/value="),
    )
    readers = ["Directory.Read.All", "User.Read.All"]
    off = write_check(connection, readers, allowed=False)
    assert off.status is CheckStatus.SKIPPED
    assert off.fix is not None
    assert "API permissions > Add a permission > Microsoft Graph" in off.fix
    missing = write_check(connection, readers, allowed=True)
    assert missing.status is CheckStatus.FAIL
    granted = write_check(connection, [*readers, "LicenseAssignment.ReadWrite.All"], True)
    assert granted.status is CheckStatus.OK
    broad = write_check(connection, [*readers, "Directory.ReadWrite.All"], allowed=True)
    assert broad.status is CheckStatus.WARN
    assert "more than needed" in broad.detail
