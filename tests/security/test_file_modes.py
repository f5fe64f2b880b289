"""Owner-only files: home 0700; database, WAL, SHM and key 0600; fixed (and said) at start."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from licensewatch.cli import app
from licensewatch.security.files import FileModeError
from licensewatch.services.tenants import SecretInput, TenantService, TenantSettings
from licensewatch.settings import Settings
from licensewatch.storage.database import make_engine

CLIENT = "4d856d1f-0000-4000-8000-000000000001"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.setenv("LICENSEWATCH_HOME", str(tmp_path / "data" / "home"))
    monkeypatch.delenv("LICENSEWATCH_SECRET_KEY", raising=False)
    monkeypatch.delenv("LICENSEWATCH_DATABASE_URL", raising=False)
    previous = os.umask(0o022)  # the usual umask: files would be 0644, directories 0755
    try:
        yield Settings()
    finally:
        os.umask(previous)


def _use(settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    try:
        TenantService(engine).add(
            TenantSettings(
                name="t",
                tenant_id="contoso.com",
                client_id=CLIENT,
                credential=SecretInput("x" * 40),
            )
        )
        # Files as a running process has them: the WAL and shared memory exist now.
        files = {p.name: _mode(p) for p in settings.home.iterdir()}
    finally:
        engine.dispose()
    assert {"licensewatch.db-wal", "licensewatch.db-shm"} <= set(files), files
    assert all(mode == 0o600 for mode in files.values()), {n: oct(m) for n, m in files.items()}


def test_a_new_home_and_its_files_are_owner_only(settings: Settings) -> None:
    _use(settings)
    assert _mode(settings.home) == 0o700
    assert _mode(settings.home / "licensewatch.db") == 0o600
    assert _mode(settings.key_file) == 0o600
    # Parents created on the way are not left world-readable either.
    assert _mode(settings.home.parent) == 0o700


def test_files_of_an_older_version_are_fixed_at_start_and_said(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    _use(settings)
    settings.home.chmod(0o755)
    database = settings.home / "licensewatch.db"
    companions = [database, *(database.with_name(database.name + s) for s in ("-wal", "-shm"))]
    for path in companions:
        path.touch()
        path.chmod(0o644)
    with caplog.at_level(logging.WARNING):
        engine = make_engine(settings.database_url)
    try:
        assert _mode(settings.home) == 0o700
        assert all(_mode(p) == 0o600 for p in companions)
    finally:
        engine.dispose()  # the last connection checkpoints and removes the WAL
    warned = " ".join(r.getMessage() for r in caplog.records)
    assert f"{database} was readable by group or others (mode 0644)" in warned
    assert f"{settings.home} was readable by group or others (mode 0755)" in warned


def test_the_cli_fixes_modes_before_it_opens_the_database(settings: Settings) -> None:
    _use(settings)
    database = settings.home / "licensewatch.db"
    database.chmod(0o644)
    result = CliRunner().invoke(app, ["tenant", "list", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert _mode(database) == 0o600


def test_a_shared_directory_is_refused_not_chmodded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)  # like /tmp: making it 0700 would break everyone else
    monkeypatch.setenv("LICENSEWATCH_HOME", str(shared))
    monkeypatch.delenv("LICENSEWATCH_DATABASE_URL", raising=False)
    with pytest.raises(FileModeError, match="a directory of your own"):
        make_engine(Settings().database_url)
    assert _mode(shared) == 0o1777


def test_a_database_outside_the_home_keeps_its_directory(
    settings: Settings, tmp_path: Path
) -> None:
    chosen = tmp_path / "srv"
    chosen.mkdir(mode=0o755)
    chosen.chmod(0o755)
    make_engine(f"sqlite:///{chosen / 'lw.db'}").dispose()
    assert _mode(chosen) == 0o755  # the admin's directory: not ours to change
    assert _mode(chosen / "lw.db") == 0o600
