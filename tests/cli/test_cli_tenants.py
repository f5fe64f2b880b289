"""`licensewatch tenant ...` round trip through Typer's CliRunner; no output ever holds a secret."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from licensewatch.cli import app
from licensewatch.emulator.certs import make_client_certificate, thumbprints

SECRET = "abC8Q~UnitTestSecretValue.0123456789_-xyz"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT = "4d856d1f-0000-4000-8000-000000000001"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LICENSEWATCH_HOME", str(tmp_path / "home"))
    for name in ("LICENSEWATCH_DATABASE_URL", "LICENSEWATCH_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "home"


class Cli:
    def __init__(self) -> None:
        self.runner = CliRunner()
        self.outputs: list[str] = []

    def __call__(self, *args: str, input: str | None = None) -> Result:
        result = self.runner.invoke(app, list(args), input=input)
        self.outputs.append(result.output)
        assert "Traceback" not in result.output, result.output
        return result


@pytest.fixture
def cli(home: Path) -> Cli:
    return Cli()


def _add(cli: Cli, name: str = "contoso", *extra: str) -> Result:
    return cli(
        "tenant", "add", name, "--tenant-id", TENANT, "--client-id", CLIENT,
        "--client-secret-stdin", *extra, input=SECRET + "\n",
    )  # fmt: skip


def test_round_trip_never_shows_the_secret(cli: Cli, home: Path) -> None:
    added = _add(cli, "contoso", "--secret-expires", "2031-01-31", "--sync-interval", "2h")
    assert added.exit_code == 0, added.output
    listed = cli("tenant", "list")
    assert "contoso" in listed.stdout
    assert "client secret: set (expires 2031-01-31)" in listed.stdout
    rows = json.loads(cli("tenant", "list", "--format", "json").stdout)
    assert [r["name"] for r in rows] == ["contoso"]
    assert rows[0]["credential"] == {
        "kind": "secret",
        "set": True,
        "thumbprint": None,
        "certificate_not_after": None,
        "secret_expires_at": "2031-01-31T00:00:00+00:00",
    }
    assert rows[0]["sync_interval_seconds"] == 7200
    shown = cli("tenant", "show", "contoso")
    assert "client secret: set (expires 2031-01-31)" in shown.stdout
    assert TENANT in shown.stdout
    renamed = cli("tenant", "update", "contoso", "--rename", "Contoso EU", "--cloud", "usgov")
    assert renamed.exit_code == 0, renamed.output
    shown = json.loads(cli("tenant", "show", "Contoso EU", "--format", "json").stdout)
    assert shown["cloud"] == "usgov"
    assert shown["authority_host"] == "https://login.microsoftonline.us"
    new_secret = cli(
        "tenant", "update", "Contoso EU", "--client-secret-stdin", input="xyZ9Q~another.value\n"
    )
    assert new_secret.exit_code == 0
    assert cli("tenant", "remove", "Contoso EU").exit_code == 2
    assert cli("tenant", "remove", "Contoso EU", "--yes").exit_code == 0
    assert json.loads(cli("tenant", "list", "--format", "json").stdout) == []
    for output in cli.outputs:
        assert SECRET not in output
        assert "xyZ9Q~another.value" not in output


def test_certificate_credential_shows_thumbprint_and_expiry(cli: Cli, tmp_path: Path) -> None:
    not_after = dt.datetime(2031, 5, 6, tzinfo=dt.UTC)
    pair = make_client_certificate("lw", not_after)
    (tmp_path / "cert.pem").write_bytes(pair.certificate_pem)
    (tmp_path / "key.pem").write_bytes(pair.private_key_pem)
    result = cli(
        "tenant", "add", "fabrikam", "--tenant-id", "fabrikam.onmicrosoft.com",
        "--client-id", CLIENT, "--certificate", str(tmp_path / "cert.pem"),
        "--private-key", str(tmp_path / "key.pem"),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    shown = cli("tenant", "show", "fabrikam").stdout
    assert f"certificate {thumbprints(pair.certificate_pem)[0]} (expires 2031-05-06)" in shown
    key_body = pair.private_key_pem.decode().splitlines()[1]
    assert all(key_body not in output for output in cli.outputs)


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["--tenant-id", "common"], SECRET, "multi-tenant alias"),
        (["--tenant-id", "not a tenant"], SECRET, "neither a GUID nor a domain"),
        (["--client-id", "my-app"], SECRET, "Application (client) ID"),
        ([], "4d856d1f-0000-4000-8000-000000000099\n", "Secret ID"),
        ([], "\n", "empty"),
        (["--authority-host", "http://login.example.com"], SECRET, "--authority-host and"),
        (
            ["--authority-host", "http://a.example", "--graph-endpoint", "https://g.example"],
            SECRET,
            "must be an https:// URL",
        ),
        (["--sync-interval", "often"], SECRET, "not a duration"),
        (["--secret-expires", "31/01/2030"], SECRET, "YYYY-MM-DD"),
        (["--ca-bundle", "/nonexistent/ca.pem"], SECRET, "does not exist"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    cli: Cli, args: list[str], stdin: str, message: str
) -> None:
    base = {"--tenant-id": TENANT, "--client-id": CLIENT}
    for index in range(0, len(args), 2):
        base[args[index]] = args[index + 1]
    flat = [part for pair in base.items() for part in pair]
    result = cli("tenant", "add", "t1", *flat, "--client-secret-stdin", input=stdin)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert result.stderr.strip().startswith("error:")


def test_secret_on_the_command_line_is_refused(cli: Cli) -> None:
    result = cli(
        "tenant", "add", "t1", "--tenant-id", TENANT, "--client-id", CLIENT,
        "--client-secret", SECRET,
    )  # fmt: skip
    assert result.exit_code == 2
    assert "never taken as arguments" in result.stderr


def test_duplicate_and_unknown_names(cli: Cli) -> None:
    assert _add(cli, "contoso").exit_code == 0
    duplicate = _add(cli, "CONTOSO")
    assert duplicate.exit_code == 2
    assert "exists already" in duplicate.stderr
    for command in (["show", "nope"], ["remove", "nope", "--yes"], ["test", "nope"]):
        result = cli("tenant", *command)
        assert result.exit_code == 2
        assert "no tenant named 'nope'" in result.stderr


def test_update_needs_something_to_change(cli: Cli) -> None:
    assert _add(cli).exit_code == 0
    result = cli("tenant", "update", "contoso")
    assert result.exit_code == 2
    assert "nothing to change" in result.stderr


def test_expired_certificate_is_accepted_with_a_warning(cli: Cli, tmp_path: Path) -> None:
    now = dt.datetime.now(dt.UTC)
    pair = make_client_certificate("old", now - dt.timedelta(days=1), now - dt.timedelta(days=90))
    (tmp_path / "both.pem").write_bytes(pair.certificate_pem + pair.private_key_pem)
    result = cli(
        "tenant", "add", "old", "--tenant-id", TENANT, "--client-id", CLIENT,
        "--certificate", str(tmp_path / "both.pem"),
    )  # fmt: skip
    assert result.exit_code == 0
    assert "warning:" in result.stderr
    assert "expired" in result.stderr
