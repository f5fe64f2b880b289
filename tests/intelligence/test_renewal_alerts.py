"""The renewal_upcoming alert after real syncs: the plan in the webhook body and the e-mail."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from alert_receivers import Hook, Mailbox, smtp_server, webhook_server
from intelligence_world import PRICES, start_and_sync, sync
from sqlalchemy import Engine

from emulator_fixtures import EmulatorFactory
from licensewatch.emulator import mutations
from licensewatch.emulator.truth import ground_truth
from licensewatch.intelligence.alerts import evaluate_alerts
from licensewatch.intelligence.alerts.rules import add_destination, add_rule
from licensewatch.intelligence.prices import set_price
from licensewatch.intelligence.renewals import PLAN_COLUMNS, renewal_plans
from licensewatch.security.crypto import Keyring, generate_key
from licensewatch.storage.models import utcnow

DAYS = 60


@pytest.fixture
def hook() -> Iterator[Hook]:
    with webhook_server() as receiver:
        yield receiver


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with smtp_server() as server:
        yield server


def test_renewal_alert_carries_its_plan(
    make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path, hook: Hook, mailbox: Mailbox
) -> None:
    keyring = Keyring((generate_key(),), "test")
    synced = start_and_sync(make_emulator, engine, tmp_path, scenario="enterprise", users=50)
    model = synced.tenant
    for part, (amount, currency, term) in PRICES.items():
        set_price(engine, part, amount, currency, term)
    add_destination(engine, "ops-hook", "webhook", hook.url, keyring=keyring)
    options = {"host": "127.0.0.1", "port": mailbox.port, "security": "none"}
    options["sender"] = "licensewatch@example.org"
    add_destination(engine, "ops-mail", "email", "it@example.org", options=options, keyring=keyring)
    add_rule(engine, "renewal_upcoming", "ops-hook", threshold=DAYS)
    add_rule(engine, "renewal_upcoming", "ops-mail", threshold=DAYS)

    # Expected from the model: paid Enabled/Warning subscriptions renewing within DAYS.
    paid = {s["sku_id"] for s in ground_truth(model)["skus"] if s["section"] == "paid"}
    horizon = utcnow() + timedelta(days=DAYS)
    due = {
        s.id
        for s in model.subscriptions
        if s.sku_id in paid
        and s.status in ("Enabled", "Warning")
        and not s.is_trial
        and s.total_licenses > 0
        and s.next_lifecycle is not None
        and s.next_lifecycle.replace(microsecond=0) <= horizon
    }
    assert due, "the enterprise scenario renews something within 60 days"

    sent = evaluate_alerts(engine, synced.tenant_pk, keyring=keyring)
    assert sorted(n.subject for n in sent) == sorted(f"renewal:{i}" for i in due for _ in "ab")
    assert all(n.delivered for n in sent)
    plans = {p.subscription_id: p for p in renewal_plans(engine, model.domain)}
    for payload in hook.payloads():
        sub_id = payload["subject"].removeprefix("renewal:")
        plan = plans[sub_id]
        assert payload["rule"]["kind"] == "renewal_upcoming"
        assert payload["plan"] == plan.model_dump(mode="json")
        assert f"renew at {plan.recommended} ({plan.change:+})" in payload["message"]
        assert plan.product in payload["message"]
    assert len(mailbox.messages) == len(due)
    for mail in mailbox.messages:
        (attachment,) = list(mail.iter_attachments())
        assert attachment.get_filename() == "renewal-plan.csv"
        rows = list(csv.reader(io.StringIO(str(attachment.get_content()))))
        assert rows[0] == PLAN_COLUMNS
        assert len(rows) == 2
        assert rows[1][PLAN_COLUMNS.index("subscription_id")] in due

    # Open conditions are not sent again; a subscription that stops renewing clears its alert.
    assert evaluate_alerts(engine, synced.tenant_pk, keyring=keyring) == []
    gone = sorted(due)[0]
    mutations.set_subscription_status(model, gone, "Suspended")
    sync(engine, synced.emulator, model, synced.tenant_pk)
    cleared = evaluate_alerts(engine, synced.tenant_pk, keyring=keyring)
    assert [(n.event, n.subject) for n in cleared] == [("cleared", f"renewal:{gone}")] * 2
    assert "plan" not in hook.payloads()[-1]
