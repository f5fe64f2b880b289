"""`licensewatch sso configure/show/disable` on a real database; the secret never comes back."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from licensewatch.cli import app

SECRET = "sso~Q8.UnitTestSecretValue_0123456789"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT = "4d856d1f-0000-4000-8000-0000000000aa"
GROUP = "0c5a3c8e-1111-4222-8333-444455556666"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LICENSEWATCH_HOME", str(tmp_path / "home"))
    for name in ("LICENSEWATCH_DATABASE_URL", "LICENSEWATCH_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "home"


def run(*args: str, input: str | None = None) -> Result:
    result = CliRunner().invoke(app, ["sso", *args], input=input)
    assert "Traceback" not in result.output, result.output
    assert SECRET not in result.output
    return result


def test_configure_show_disable(home: Path) -> None:
    configured = run(
        "configure", "--tenant-id", TENANT, "--client-id", CLIENT, "--client-secret-stdin",
        "--admin-group", GROUP, "--local-sign-in", "admins", input=SECRET + "\n",
    )  # fmt: skip
    assert configured.exit_code == 0, configured.output
    assert "/auth/callback" in configured.output
    shown = json.loads(run("show", "--format", "json").stdout)
    assert shown["tenant_id"] == TENANT
    assert shown["client_id"] == CLIENT
    assert shown["admin_groups"] == [GROUP]
    assert shown["local_sign_in"] == "admins"
    assert shown["enabled"] is True
    assert shown["multi_tenant"] is False
    with sqlite3.connect(home / "licensewatch.db") as db:
        (ciphertext,) = db.execute("select ciphertext from sso_settings").fetchone()
    assert SECRET.encode() not in ciphertext  # encrypted at rest
    assert run("disable").exit_code == 0
    assert json.loads(run("show", "--format", "json").stdout)["enabled"] is False


def test_multi_tenant_mode_for_msp_staff(home: Path) -> None:
    result = run(
        "configure", "--tenant-id", "organizations", "--client-id", CLIENT,
        "--client-secret-stdin", "--allowed-tenant", TENANT, input=SECRET,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    shown = json.loads(run("show", "--format", "json").stdout)
    assert shown["multi_tenant"] is True
    assert shown["allowed_tenants"] == [TENANT]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--client-id", "my web app", "--client-secret-stdin"], "Application (client) ID"),
        (["--client-id", CLIENT, "--client-secret", SECRET], "never taken as arguments"),
        (["--client-id", CLIENT], "--client-secret-stdin or --certificate"),
        (
            ["--client-id", CLIENT, "--client-secret-stdin", "--local-sign-in", "none"],
            "'all' or 'admins'",
        ),
        (["--client-id", CLIENT, "--client-secret-stdin", "--admin-group", "IT"], "object ID"),
    ],
)
def test_bad_input_says_what_to_fix(home: Path, args: list[str], message: str) -> None:
    result = run("configure", "--tenant-id", TENANT, *args, input=SECRET)
    assert result.exit_code != 0
    assert message in result.output


def test_show_before_configure_says_how(home: Path) -> None:
    result = run("show")
    assert result.exit_code != 0
    assert "sso configure" in result.output


def test_scope_groups_round_trip(home: Path) -> None:
    result = run(
        "configure", "--tenant-id", TENANT, "--client-id", CLIENT, "--client-secret-stdin",
        "--scope-group", f"{GROUP}=contoso,fabrikam", input=SECRET,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    shown = json.loads(run("show", "--format", "json").stdout)
    assert shown["scope_groups"] == {GROUP: ["contoso", "fabrikam"]}
    bad = run(
        "configure", "--tenant-id", TENANT, "--client-id", CLIENT, "--client-secret-stdin",
        "--scope-group", GROUP, input=SECRET,
    )  # fmt: skip
    assert bad.exit_code != 0
    assert "GROUP_ID=tenant1,tenant2" in bad.output
