"""`licensewatch user scope`: limit a viewer to some tenants, or lift the limit."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from licensewatch.cli import app
from licensewatch.services.accounts import create_account
from licensewatch.settings import load_settings
from licensewatch.storage.database import make_engine, session_scope
from licensewatch.storage.models.accounts import Account, Role
from web_fixtures import add_contoso


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LICENSEWATCH_HOME", str(tmp_path / "home"))
    for name in ("LICENSEWATCH_DATABASE_URL", "LICENSEWATCH_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "home"


def _scope(username: str) -> list[str] | None:
    engine = make_engine(load_settings().database_url)
    try:
        with session_scope(engine, write=False) as session:
            query = select(Account.tenant_scope).where(Account.username == username)
            scope: list[str] | None = session.scalars(query).one()
            return scope
    finally:
        engine.dispose()


def test_scope_a_viewer_then_lift_it(home: Path) -> None:
    settings = load_settings()
    engine = make_engine(settings.database_url)
    add_contoso(engine, settings, "contoso")
    create_account(engine, "carol", Role.VIEWER, "a-long-viewer-password")
    create_account(engine, "ada", Role.ADMIN, "a-long-admin-password!")
    engine.dispose()
    runner = CliRunner()
    limited = runner.invoke(app, ["user", "scope", "carol", "--tenant", "contoso"])
    assert limited.exit_code == 0, limited.output
    assert _scope("carol") == ["contoso"]
    unknown = runner.invoke(app, ["user", "scope", "carol", "--tenant", "tailspin"])
    assert unknown.exit_code != 0
    assert "no tenant named 'tailspin'" in unknown.output
    admin = runner.invoke(app, ["user", "scope", "ada", "--tenant", "contoso"])
    assert admin.exit_code != 0
    assert "administrators see every tenant" in admin.output
    lifted = runner.invoke(app, ["user", "scope", "carol", "--all"])
    assert lifted.exit_code == 0, lifted.output
    assert _scope("carol") is None
    neither = runner.invoke(app, ["user", "scope", "carol"])
    assert neither.exit_code != 0
    assert "--tenant NAME" in neither.output
