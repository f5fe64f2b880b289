"""What each command imports (`python -X importtime`), the listing's help and `--version`."""

from __future__ import annotations

import importlib.metadata
import inspect
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import Engine

from database_fixtures import add_tenant
from licensewatch.cli import COMMANDS
from licensewatch.storage.database import make_engine
from web_seed import seed_inventory

HEAVY = {"sqlalchemy", "fastapi", "msal", "httpx", "openpyxl", "starlette", "uvicorn"}
HEAVY |= {"procrastinate", "psycopg"}
WEB_AND_GRAPH = {"fastapi", "starlette", "uvicorn", "msal", "httpx"}
WEB_AND_GRAPH |= {"licensewatch.web", "licensewatch.graph", "licensewatch.sync"}
# What the quick reads (`balance`, `status`, `tenant list`) leave out (issue 12): the ORM and the
# model modules, pydantic-settings, cryptography, openpyxl and the onboarding service.
NOT_READ = {"sqlalchemy.orm", "licensewatch.storage.models", "licensewatch.storage.queries"}
NOT_READ |= {"pydantic_settings", "licensewatch.settings", "cryptography", "openpyxl", "alembic"}
NOT_READ |= {"licensewatch.intelligence.catalog", "licensewatch.services.tenants"}
QUICK_READS = (
    ("balance",),
    ("balance", "--format", "json"),
    ("balance", "--format", "csv"),
    ("balance", "--tenant", "contoso", "--format", "json"),
    ("status",),
    ("status", "--format", "json"),
    ("status", "--format", "csv"),
    ("tenant", "list"),
    ("tenant", "list", "--format", "json"),
)


def run(home: Path, *args: str, importtime: bool = False) -> tuple[str, set[str]]:
    """Runs `python -m licensewatch ARGS`; returns stdout and the modules it imported."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LICENSEWATCH_")}
    env |= {"LICENSEWATCH_HOME": str(home), "COLUMNS": "120"}
    flags = ["-X", "importtime"] if importtime else []
    result = subprocess.run(
        [sys.executable, *flags, "-m", "licensewatch", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    modules = {
        line.split("|")[-1].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:")
    }
    return result.stdout, modules


def packages(modules: set[str]) -> set[str]:
    """Each module and every package above it: `a.b.c` → a, a.b, a.b.c."""
    parts = (module.split(".") for module in modules)
    return {".".join(p[:i]) for p in parts for i in range(1, len(p) + 1)}


def small_database(home: Path) -> Engine:
    home.mkdir(parents=True)
    engine = make_engine(f"sqlite:///{home / 'licensewatch.db'}")
    add_tenant(engine, "contoso")
    seed_inventory(engine, "contoso")
    return engine


def test_help_imports_nothing_heavy_and_lists_every_command(tmp_path: Path) -> None:
    output, modules = run(tmp_path, "--help", importtime=True)
    imported = packages(modules)
    assert "typer" in imported  # the measurement works
    assert not imported & HEAVY
    # Typer's rich help (rich, its Markdown and Pygments) cost more than typer itself: the
    # listing uses Click's plain layout (issue 12).
    assert "rich" not in imported
    ours = {m for m in imported if m.startswith("licensewatch.")}
    assert ours == {"licensewatch.cli", "licensewatch.cli.lazy"}
    for name, command in COMMANDS.items():
        assert f" {name} " in output
        assert command.help.split()[0] in output


def test_quick_reads_import_no_web_graph_orm_or_pydantic_settings(tmp_path: Path) -> None:
    home = tmp_path / "home"
    small_database(home).dispose()
    for args in QUICK_READS:
        output, modules = run(home, *args, importtime=True)
        imported = packages(modules)
        shown = "Office 365 E3" if args[0] == "balance" else "contoso"
        assert shown in output, args  # it did read the database
        # A current SQLite database is read through sqlite3: SQLAlchemy cost 3/4 of the start-up.
        assert "sqlite3" in imported, args
        assert "sqlalchemy" not in imported, args
        # `tenant list` names the tenant's cloud: graph/clouds.py, a table of endpoints.
        graph = {"licensewatch.graph", "licensewatch.graph.clouds"} if "tenant" in args else set()
        assert not (imported - graph) & WEB_AND_GRAPH, (args, imported & WEB_AND_GRAPH)
        assert not imported & NOT_READ, (args, imported & NOT_READ)
        if "--format" in args:  # JSON and CSV are written without rich
            assert "rich" not in imported, args
        else:
            assert "rich" in imported, args  # the measurement works: a table needs it


def test_a_database_to_create_or_migrate_goes_through_sqlalchemy(tmp_path: Path) -> None:
    home = tmp_path / "home"
    output, modules = run(home, "tenant", "list", importtime=True)
    assert "No tenants yet" in output  # created and migrated by make_engine, as before
    assert {"sqlalchemy", "alembic"} <= packages(modules)
    output, modules = run(home, "tenant", "list", importtime=True)
    assert "sqlalchemy" not in packages(modules)  # now current: read through sqlite3


def test_listed_help_is_each_commands_own() -> None:
    for name, command in COMMANDS.items():
        loaded = command.load(name)
        own = inspect.cleandoc(loaded.help or "").split("\n\n")[0].replace("\n", " ")
        assert own == command.help, name


def test_version(tmp_path: Path) -> None:
    output, _ = run(tmp_path, "--version")
    assert output.strip() == f"licensewatch {importlib.metadata.version('licensewatch')}"


def test_flags_show_no_type_in_help(tmp_path: Path) -> None:
    output, _ = run(tmp_path, "sync", "--help")
    assert "--all" in output
    assert "<bool>" not in output
    assert "<auto|full|delta>" in output  # options that take a value keep their type
