"""Each administrative CLI command leaves one audit event, as `cli:<OS user>`, never a secret."""

from __future__ import annotations

import datetime as dt
import getpass
import json
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from audit_support import assert_no_secret, events_after, last_id
from catalog_csv import synthetic_catalog
from licensewatch.cli import app
from licensewatch.emulator.certs import make_client_certificate
from licensewatch.services.acting import current
from licensewatch.storage.database import make_engine

SECRET = "abC8Q~AuditCliSecretValue.0123456789_-xyz"
NEW_SECRET = "xyZ9Q~AuditCliRotatedValue.9876543210_-abc"
SSO_SECRET = "ssO7Q~AuditCliSsoSecretValue.1357924680_-def"
WEBHOOK = "https://127.0.0.1:9/hooks/T0KEN-in-the-path-8f3a1c?sig=query-secret-77e2b9d4"
HMAC_KEY = "hmac-signing-key-for-audit-test-4471"
SMTP_PASSWORD = "smtp-password-for-audit-test-9921"
USER_PASSWORD = "a-user-password-for-audit-5521"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT = "4d856d1f-0000-4000-8000-000000000001"
SKU = "c7df2760-2c81-4ef7-b578-5b5392b571df"  # Office 365 E5


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LICENSEWATCH_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LICENSEWATCH_ALLOW_PRIVATE_WEBHOOKS", "true")
    for name in ("LICENSEWATCH_DATABASE_URL", "LICENSEWATCH_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "home"


def test_each_cli_action_leaves_one_event_as_the_os_user(home: Path, tmp_path: Path) -> None:
    pair = make_client_certificate("audit", dt.datetime.now(dt.UTC) + dt.timedelta(days=200))
    (tmp_path / "cert.pem").write_bytes(pair.certificate_pem)
    (tmp_path / "key.pem").write_bytes(pair.private_key_pem)
    (tmp_path / "prices.csv").write_text(f"product,price,currency,term\n{SKU},30,EUR,monthly\n")
    catalog = synthetic_catalog().write(tmp_path)
    runner = CliRunner()
    steps: list[tuple[list[str], str | None, str]] = [
        (["tenant", "add", "contoso", "--tenant-id", TENANT, "--client-id", CLIENT,
          "--client-secret-stdin"], SECRET + "\n", "tenant.added"),
        (["tenant", "update", "contoso", "--sync-interval", "2h"], None, "tenant.changed"),
        (["tenant", "update", "contoso", "--client-secret-stdin"], NEW_SECRET + "\n",
         "tenant.credential_rotated"),
        (["tenant", "update", "contoso", "--certificate", str(tmp_path / "cert.pem"),
          "--private-key", str(tmp_path / "key.pem")], None, "tenant.credential_rotated"),
        (["prices", "set", SKU, "20", "--currency", "EUR"], None, "price.set"),
        (["prices", "import", str(tmp_path / "prices.csv")], None, "prices.imported"),
        (["prices", "remove", SKU], None, "price.removed"),
        (["findings", "exclude", SKU, "--scope", "alerts"], None, "exclusion.set"),
        (["findings", "include", SKU], None, "exclusion.removed"),
        (["findings", "settings", "inactive_days", "60"], None, "setting.changed"),
        (["catalog", "import", str(catalog)], None, "catalog.imported"),
        (["catalog", "set-name", SKU, "Our E5"], None, "product_name.set"),
        (["catalog", "clear-name", SKU], None, "product_name.cleared"),
        (["alerts", "destination", "hook", "--webhook-stdin", "--secret-stdin"],
         f"{WEBHOOK}\n{HMAC_KEY}\n", "alert_destination.added"),
        (["alerts", "destination", "mail", "--email", "it@contoso.example", "--smtp-host",
          "smtp.contoso.example", "--from", "lw@contoso.example", "--smtp-user", "lw",
          "--secret-stdin"], SMTP_PASSWORD + "\n", "alert_destination.added"),
        (["alerts", "add", "low_available", "--to", "hook", "--threshold", "5"], None,
         "alert_rule.added"),
        (["alerts", "remove", "1"], None, "alert_rule.removed"),
        (["alerts", "remove", "hook"], None, "alert_destination.removed"),
        (["report", "schedule", "weekly", "--to", "mail"], None, "report_schedule.added"),
        (["report", "unschedule", "1"], None, "report_schedule.removed"),
        (["report", "--format", "xlsx", "--output", str(tmp_path / "r.xlsx")], None,
         "export.written"),
        (["user", "create", "bob", "--viewer", "--password-stdin"], USER_PASSWORD + "\n",
         "account.created"),
        (["user", "passwd", "bob"], None, "account.password_changed"),
        (["user", "scope", "bob", "--tenant", "contoso"], None, "account.scope_changed"),
        (["user", "disable", "bob"], None, "account.disabled"),
        (["user", "disable", "bob", "--enable"], None, "account.enabled"),
        (["user", "unlock", "bob"], None, "account.unlocked"),
        (["token", "create", "bob", "--name", "ci"], None, "token.created"),
        (["token", "revoke", "1"], None, "token.revoked"),
        (["token", "revoke", "--all-of", "bob"], None, "token.revoked_all"),
        (["sso", "configure", "--tenant-id", TENANT, "--client-id", CLIENT,
          "--client-secret-stdin"], SSO_SECRET + "\n", "sso.configured"),
        (["sso", "disable"], None, "sso.disabled"),
        (["key", "rotate"], None, "key.rotated"),
        (["tenant", "remove", "contoso", "--yes"], None, "tenant.removed"),
    ]  # fmt: skip
    outputs: dict[str, str] = {}
    engine = None
    for args, stdin, action in steps:
        mark = last_id(engine) if engine is not None else 0
        result = runner.invoke(app, args, input=stdin)
        outputs[" ".join(args[:2])] = result.output
        assert result.exit_code == 0, f"{args}: {result.output}"
        engine = engine or make_engine(f"sqlite:///{home / 'licensewatch.db'}")
        events = events_after(engine, mark)
        assert [e.action for e in events] == [action], args
        assert events[0].actor == f"cli:{getpass.getuser()}"
        assert events[0].address == socket.gethostname()
        assert events[0].outcome == "ok"
    assert engine is not None
    assert current().name is None  # the CLI's actor ended with each command
    secrets = [SECRET, NEW_SECRET, SSO_SECRET, WEBHOOK, HMAC_KEY, SMTP_PASSWORD, USER_PASSWORD]
    token = outputs["token create"].split("lw_", 1)[1].split()[0]
    generated = outputs["user passwd"].strip().split()[-1]  # the new password, printed once
    assert len(generated) >= 20, outputs["user passwd"]
    secrets += [
        "lw_" + token,
        generated,
        pair.private_key_pem.decode(),
        pair.certificate_pem.decode(),
    ]
    assert_no_secret(engine, secrets)
    listed = runner.invoke(app, ["audit", "--format", "json", "--limit", "500"])
    assert json.loads(listed.stdout)[0]["action"] == "tenant.removed"
    engine.dispose()
