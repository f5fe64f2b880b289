"""Alerts after real syncs: signed webhooks, real SMTP, no repeats, a notice when cleared."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from alert_receivers import Hook, Mailbox, smtp_server, webhook_server
from intelligence_world import Synced, start_and_sync, sync
from sqlalchemy import Engine, select

from emulator_fixtures import EmulatorFactory, connect
from licensewatch.emulator import mutations
from licensewatch.emulator.truth import ground_truth
from licensewatch.intelligence.alerts import evaluate_alerts
from licensewatch.intelligence.alerts.evaluate import alert_log, send_test
from licensewatch.intelligence.alerts.rules import add_destination, add_rule
from licensewatch.intelligence.exclusions import exclude
from licensewatch.security.crypto import Keyring, generate_key
from licensewatch.storage.database import session_scope
from licensewatch.storage.models import Credential, SyncStatus, utcnow
from licensewatch.storage.models.intelligence import AlertCondition
from licensewatch.sync.runner import run_sync

SECRET = "hook-secret-0123456789"


@pytest.fixture
def keyring() -> Keyring:
    return Keyring((generate_key(),), "test")


@pytest.fixture
def hook() -> Iterator[Hook]:
    with webhook_server() as receiver:
        yield receiver


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with smtp_server() as server:
        yield server


def _webhook(engine: Engine, hook: Hook, keyring: Keyring) -> None:
    add_destination(engine, "ops-hook", "webhook", hook.url, secret=SECRET, keyring=keyring)


def _email(engine: Engine, mailbox: Mailbox) -> None:
    options = {"host": "127.0.0.1", "port": mailbox.port, "security": "none"}
    options["sender"] = "licensewatch@example.org"
    add_destination(engine, "ops-mail", "email", "it@example.org, cfo@example.org", options=options)


def _over_assigned(synced: Synced) -> dict[str, int]:
    skus = ground_truth(synced.tenant)["skus"]
    return {s["sku_id"]: s["over_assigned_units"] for s in skus if s["over_assigned_units"]}


def test_webhook_once_per_condition_signed_and_cleared(
    make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path, hook: Hook, keyring: Keyring
) -> None:
    synced = start_and_sync(make_emulator, engine, tmp_path)
    over = _over_assigned(synced)
    assert over
    _webhook(engine, hook, keyring)
    add_rule(engine, "over_assigned", "ops-hook", tenant=synced.tenant.domain)

    sent = evaluate_alerts(engine, synced.tenant_pk, keyring=keyring)
    assert [(n.event, n.subject, n.delivered) for n in sent] == [
        ("opened", f"sku:{sku}", True) for sku in sorted(over)
    ]
    assert len(hook.requests) == len(over)
    for headers, body in hook.requests:
        # The signature covers the timestamp: a captured request cannot be replayed later.
        stamp = headers["x-licensewatch-timestamp"]
        assert abs(int(stamp) - time.time()) < 60
        signed = stamp.encode() + b"." + body
        digest = hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest()
        assert headers["x-licensewatch-signature"] == f"sha256={digest}"
        assert headers["content-type"] == "application/json"
    payload = hook.payloads()[0]
    assert payload["event"] == "opened"
    assert payload["tenant"] == synced.tenant.domain
    assert payload["rule"]["kind"] == "over_assigned"
    assert "Microsoft 365 E3" in payload["message"]
    assert f"{next(iter(over.values()))} more assigned than purchased" in payload["message"]

    # The same open condition: nothing new, however often it is evaluated or synced.
    assert evaluate_alerts(engine, synced.tenant_pk, keyring=keyring) == []
    sync(engine, synced.emulator, synced.tenant, synced.tenant_pk)
    assert evaluate_alerts(engine, synced.tenant_pk, keyring=keyring) == []
    assert len(hook.requests) == len(over)

    for sku in over:  # buy enough seats: the condition clears
        sub = mutations.find_subscription(synced.tenant, sku)
        mutations.set_units(synced.tenant, sub.id, sub.total_licenses + 50)
    sync(engine, synced.emulator, synced.tenant, synced.tenant_pk)
    cleared = evaluate_alerts(engine, synced.tenant_pk, keyring=keyring)
    assert [(n.event, n.delivered) for n in cleared] == [("cleared", True)] * len(over)
    assert hook.payloads()[-1]["event"] == "cleared"
    assert "(cleared)" in hook.payloads()[-1]["message"]
    assert evaluate_alerts(engine, synced.tenant_pk, keyring=keyring) == []
    assert len(hook.requests) == 2 * len(over)
    with session_scope(engine, write=False) as session:
        assert session.scalars(select(AlertCondition)).all() == []
    events = [(e["event"], e["delivered"]) for e in alert_log(engine)]
    assert events == [("cleared", True)] * len(over) + [("opened", True)] * len(over)


def test_failed_delivery_is_retried_then_never_repeated(
    make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path, hook: Hook, keyring: Keyring
) -> None:
    synced = start_and_sync(make_emulator, engine, tmp_path)
    _webhook(engine, hook, keyring)
    add_rule(engine, "over_assigned", "ops-hook")
    hook.status = 500
    first = evaluate_alerts(engine, synced.tenant_pk, keyring=keyring)
    assert first
    assert all(not n.delivered and "HTTP 500" in (n.error or "") for n in first)
    hook.status = 204
    second = evaluate_alerts(engine, synced.tenant_pk, keyring=keyring)
    assert [(n.event, n.delivered) for n in second] == [("opened", True)] * len(first)
    assert evaluate_alerts(engine, synced.tenant_pk, keyring=keyring) == []
    log = alert_log(engine)
    assert [e["delivered"] for e in log] == [True] * len(first) + [False] * len(first)


def test_email_for_low_seats_credential_and_failing_sync(
    make_emulator: EmulatorFactory,
    engine: Engine,
    tmp_path: Path,
    mailbox: Mailbox,
    keyring: Keyring,
) -> None:
    synced = start_and_sync(make_emulator, engine, tmp_path, scenario="small-office", users=30)
    tenant, now = synced.tenant, utcnow()
    _email(engine, mailbox)
    skus = ground_truth(tenant)["skus"]
    paid = [s for s in skus if s["section"] == "paid"]
    low = {s["sku_id"] for s in paid if s["available"] < 1000 and s["purchased"] + s["trial"]}
    add_rule(engine, "low_available", "ops-mail", threshold=1000)
    with session_scope(engine) as session:
        session.add(
            Credential(
                tenant_id=synced.tenant_pk,
                kind="secret",
                ciphertext=b"opaque",
                secret_expires_at=now + timedelta(days=9),
            )
        )
    add_rule(engine, "credential_expiring", "ops-mail", threshold=30)
    add_rule(engine, "sync_failing", "ops-mail", threshold=0)

    opened = evaluate_alerts(engine, synced.tenant_pk, keyring=keyring)
    subjects = {n.subject for n in opened}
    assert subjects == {f"sku:{s}" for s in low} | {"credential"}
    assert len(mailbox.messages) == len(opened)
    mail = next(m for m in mailbox.messages if "client secret" in str(m["Subject"]))
    assert mail["To"] == "it@example.org, cfo@example.org"
    assert mail["From"] == "licensewatch@example.org"
    body = mail.get_body(("plain",))
    assert body is not None
    assert "expires on" in body.get_content()

    mutations.revoke_consent(tenant)  # syncs now fail with 401/403
    failed = run_sync(engine, synced.tenant_pk, connect(synced.emulator, tenant))
    assert failed.status == SyncStatus.FAILED
    notices = evaluate_alerts(engine, synced.tenant_pk, keyring=keyring)
    assert [(n.event, n.subject) for n in notices] == [("opened", "sync")]
    assert "sync failing since" in notices[0].message
    assert evaluate_alerts(engine, synced.tenant_pk, keyring=keyring) == []

    mutations.grant_consent(tenant)
    sync(engine, synced.emulator, tenant, synced.tenant_pk)
    with session_scope(engine) as session:
        credential = session.scalars(select(Credential)).one()
        credential.secret_expires_at = now + timedelta(days=200)
    cleared = evaluate_alerts(engine, synced.tenant_pk, keyring=keyring)
    assert sorted((n.event, n.subject) for n in cleared) == [
        ("cleared", "credential"),
        ("cleared", "sync"),
    ]
    assert any("resolved" in str(m["Subject"]) for m in mailbox.messages)


def test_alerts_only_exclusion_and_test_notice(
    make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path, hook: Hook, keyring: Keyring
) -> None:
    synced = start_and_sync(make_emulator, engine, tmp_path)
    _webhook(engine, hook, keyring)
    add_rule(engine, "over_assigned", "ops-hook")
    for sku in _over_assigned(synced):
        exclude(engine, sku, "alerts")
    assert evaluate_alerts(engine, synced.tenant_pk, keyring=keyring) == []
    notice = send_test(engine, "ops-hook", keyring=keyring)
    assert notice.delivered
    assert hook.payloads()[-1]["event"] == "test"
    assert alert_log(engine)[0]["event"] == "test"
