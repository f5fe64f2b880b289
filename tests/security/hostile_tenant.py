"""A tenant whose employees typed hostile text, synced by the CLI and served by the web app."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner, Result

from licensewatch.cli import app
from licensewatch.emulator.server import RunningEmulator
from licensewatch.emulator.state import Tenant
from licensewatch.settings import Settings
from licensewatch.storage.database import make_engine
from licensewatch.storage.models.accounts import Role
from licensewatch.web import create_app
from web_fixtures import SyncRecorder, sign_in
from web_server import serve_in_thread

PASSWORD = "hostile-admin-password-1234"
# Every text attribute of a Graph user that licensewatch reads (Graph name → emulator field).
USER_TEXT_FIELDS = (
    "displayName", "mail", "department", "jobTitle", "companyName", "country", "usageLocation",
    "employeeId", "costCenter",
)  # fmt: skip


@dataclass
class HostileCli:
    """Runs licensewatch in-process against one emulated tenant; never a traceback."""

    emulator: RunningEmulator
    runner: CliRunner = dataclasses.field(default_factory=CliRunner)

    @property
    def info(self) -> dict[str, Any]:
        tenant: dict[str, Any] = self.emulator.info["tenants"][0]
        return tenant

    @property
    def tenant(self) -> Tenant:
        return self.emulator.world.tenants[self.info["tenant_id"]]

    def __call__(self, *args: str, input: str | None = None) -> Result:
        result = self.runner.invoke(app, list(args), input=input)
        assert "Traceback" not in result.output, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit), result.output
        return result

    def ok(self, *args: str) -> Result:
        result = self(*args)
        assert result.exit_code == 0, result.output
        return result

    def add_and_sync(self, name: str = "contoso") -> None:
        info = self.emulator.info
        added = self(
            "tenant", "add", name, "--tenant-id", self.info["domain"], "--client-id",
            self.info["client_id"], "--client-secret-stdin", "--authority-host",
            info["authority_host"], "--graph-endpoint", info["graph_endpoint"], "--ca-bundle",
            info["ca_bundle"], input=self.info["client_secret"] + "\n",
        )  # fmt: skip
        assert added.exit_code == 0, added.output
        self.ok("sync", name)


def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str) -> Settings:
    home = tmp_path / "home"
    monkeypatch.setenv("LICENSEWATCH_HOME", str(home))
    monkeypatch.setenv("LICENSEWATCH_DATABASE_URL", database_url)
    monkeypatch.delenv("LICENSEWATCH_SECRET_KEY", raising=False)
    return Settings(home=home, database_url=database_url)


@pytest.fixture
def cli_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str) -> Settings:
    """LICENSEWATCH_HOME and the database of the parametrised engine, for CLI and web alike."""
    return _home(tmp_path, monkeypatch, database_url)


@pytest.fixture
def sqlite_cli_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_url: str) -> Settings:
    """Like `cli_home`, on SQLite only (for the slow property tests)."""
    return _home(tmp_path, monkeypatch, sqlite_url)


@contextmanager
def signed_in_web(settings: Settings) -> Iterator[tuple[httpx.Client, Engine]]:
    """The web app over the CLI's database, and a client signed in as an admin."""
    from licensewatch.services.accounts import create_account

    engine = make_engine(settings.database_url)
    try:
        create_account(engine, "hostile-admin", Role.ADMIN, PASSWORD)
        web = create_app(settings, engine=engine, sync=SyncRecorder())
        with serve_in_thread(web) as base_url, httpx.Client(base_url=base_url) as client:
            sign_in(client, "hostile-admin", PASSWORD)
            yield client, engine
    finally:
        engine.dispose()
