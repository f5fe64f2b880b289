"""A CR/LF in a product name injects no e-mail header and stops none of the tenant's alerts."""

from __future__ import annotations

from pathlib import Path

from alert_receivers import smtp_server
from intelligence_world import start_and_sync
from sqlalchemy import Engine, select

from emulator_fixtures import EmulatorFactory
from licensewatch.emulator.truth import ground_truth
from licensewatch.intelligence.alerts import evaluate_alerts
from licensewatch.intelligence.alerts.rules import add_destination, add_rule
from licensewatch.intelligence.reports import send_report
from licensewatch.security.crypto import Keyring, generate_key
from licensewatch.storage.database import session_scope
from licensewatch.storage.models import Sku

INJECTED = "Evil\r\nBcc: victim@example.com\r\n\r\nbody"


def test_a_line_break_in_a_product_name_breaks_no_alert(
    make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path
) -> None:
    synced = start_and_sync(make_emulator, engine, tmp_path, scenario="small-office", users=30)
    paid = [
        s
        for s in ground_truth(synced.tenant)["skus"]
        if s["sku_part_number"] not in ("FLOW_FREE", "POWER_BI_STANDARD")
    ]
    assert len(paid) >= 2
    # A name stored before tenant text was cleaned at the sync edge (or any future source).
    with session_scope(engine) as session:
        sku = session.scalars(select(Sku).where(Sku.sku_id == paid[0]["sku_id"])).one()
        sku.sku_part_number = INJECTED
    keyring = Keyring((generate_key(),), "test")
    with smtp_server() as mailbox:
        options = {"host": "127.0.0.1", "port": mailbox.port, "security": "none"}
        options["sender"] = "licensewatch@example.org"
        add_destination(engine, "ops-mail", "email", "it@example.org", options=options)
        add_rule(engine, "low_available", "ops-mail", threshold=100_000)

        notices = evaluate_alerts(engine, synced.tenant_pk, keyring=keyring)
        assert {n.subject for n in notices} == {f"sku:{s['sku_id']}" for s in paid}
        assert all(n.delivered for n in notices), [n.error for n in notices]
        assert len(mailbox.messages) == len(paid)
        for mail in mailbox.messages:
            assert mail["Bcc"] is None
            assert "\n" not in str(mail["Subject"])
            assert "\r" not in str(mail["Subject"])
        evil = [m for m in mailbox.messages if "Evil" in str(m["Subject"])]
        assert len(evil) == 1
        assert "Evil Bcc: victim@example.com body" in str(evil[0]["Subject"])

        send_report(engine, "ops-mail", None)  # the report mail carries the same names
        report = mailbox.messages[-1]
        assert report["Bcc"] is None
        assert len(mailbox.messages) == len(paid) + 1
