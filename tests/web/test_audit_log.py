"""The audit log: sign-ins and refusals recorded, shown to administrators only, never a secret."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from licensewatch.cli import app
from licensewatch.services.accounts import create_account
from licensewatch.storage.database import make_engine
from licensewatch.storage.models.accounts import Role
from licensewatch.web import create_app
from web_fixtures import CSRF_INPUT, make_settings, sign_in
from web_server import serve_in_thread

PASSWORD = "an-admin-password-1234"
TYPED_BY_MISTAKE = "my-Secret-passw0rd-typed-as-username"


def _try(client: httpx.Client, username: str, password: str) -> int:
    token = CSRF_INPUT.search(client.get("/login").text)
    assert token is not None
    data = {"username": username, "password": password, "csrf_token": token.group(1)}
    return client.post("/login", data=data, follow_redirects=False).status_code


def test_sign_ins_are_audited_and_shown_to_admins_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(tmp_path)
    engine = make_engine(settings.database_url)
    create_account(engine, "ada", Role.ADMIN, PASSWORD)
    create_account(engine, "vic", Role.VIEWER, PASSWORD)
    with serve_in_thread(create_app(settings, engine=engine)) as base_url:
        with httpx.Client(base_url=base_url) as client:
            assert _try(client, "ada", "wrong-password-123456") == 401
            assert _try(client, TYPED_BY_MISTAKE, "x" * 12) == 401
            sign_in(client, "ada", PASSWORD)
            page = client.get("/audit")
            assert page.status_code == 200
            api = client.get("/api/v1/audit").json()
        with httpx.Client(base_url=base_url) as viewer:
            sign_in(viewer, "vic", PASSWORD)
            assert viewer.get("/audit").status_code == 403
            assert viewer.get("/api/v1/audit").status_code == 403
    engine.dispose()
    sign_ins = [e for e in api if e["action"] == "local.sign_in"]
    outcomes = [(e["actor"], e["action"], e["outcome"], e["detail"]) for e in sign_ins]
    assert outcomes == [
        ("ada", "local.sign_in", "ok", "admin"),
        (None, "local.sign_in", "refused", "wrong password"),  # not an account: not kept
        ("ada", "local.sign_in", "refused", "wrong password"),
    ]
    assert all(e["address"] == "127.0.0.1" for e in sign_ins)
    assert TYPED_BY_MISTAKE not in page.text
    assert "wrong password" in page.text
    monkeypatch.setenv("LICENSEWATCH_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("LICENSEWATCH_HOME", str(settings.home))
    cli = CliRunner().invoke(app, ["audit", "--format", "json", "--limit", "2"])
    assert cli.exit_code == 0, cli.output
    assert [e["outcome"] for e in json.loads(cli.stdout)] == ["ok", "ok"]  # vic, then ada
