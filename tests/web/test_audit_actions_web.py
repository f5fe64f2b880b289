"""Every administrative web action leaves exactly one audit event: the account, the client address
a trusted proxy names, the action; and no stored event ever holds a secret used here."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import httpx

from audit_support import assert_no_secret, events_after, last_id
from licensewatch.intelligence.alerts.rules import add_destination
from licensewatch.security.crypto import load_keyring
from licensewatch.services.accounts import create_account, create_token
from licensewatch.settings import Settings
from licensewatch.storage.database import make_engine
from licensewatch.storage.models.accounts import Role
from licensewatch.web import create_app
from web_fixtures import sign_in
from web_server import serve_in_thread

PASSWORD = "an-admin-password-for-audit-1234"
SECRET = "abC8Q~AuditWebSecretValue.0123456789_-xyz"
NEW_SECRET = "xyZ9Q~AuditWebRotatedValue.9876543210_-abc"
WEBHOOK = "https://127.0.0.1:9/hooks/web-T0KEN-4f1e2d?sig=web-query-secret-0b9c"
CLIENT_ADDRESS = "203.0.113.77"  # what the trusted proxy (the test client, 127.0.0.1) says
SHOWN_ONCE = re.compile(r'class="secret-once" id="new-(?:password|token)">([^<]+)<')
SKU = "c7df2760-2c81-4ef7-b578-5b5392b571df"


def test_each_web_action_leaves_one_event_with_caller_and_address(tmp_path: Path) -> None:
    settings = Settings(
        home=tmp_path / "home",
        database_url=f"sqlite:///{tmp_path / 'web.db'}",
        trusted_proxies="127.0.0.1",
        allow_private_webhooks=True,
    )
    engine = make_engine(settings.database_url)
    create_account(engine, "ada", Role.ADMIN, PASSWORD)
    api_token = create_token(engine, "ada", "audit-test")
    keyring = load_keyring(settings)
    add_destination(engine, "hook", "webhook", WEBHOOK, keyring=keyring, settings=settings)
    headers = {"x-forwarded-for": CLIENT_ADDRESS}
    with (
        serve_in_thread(create_app(settings, engine=engine)) as base_url,
        httpx.Client(base_url=base_url, headers=headers) as client,
    ):
        mark = last_id(engine)
        csrf = sign_in(client, "ada", PASSWORD)
        assert [e.action for e in events_after(engine, mark)] == ["local.sign_in"]
        bearer = {"authorization": f"Bearer {api_token}"}

        def form(path: str, **data: str) -> Callable[[], httpx.Response]:
            return lambda: client.post(path, data={"csrf_token": csrf, **data})

        new_tenant = {"name": "contoso", "tenant_id": "contoso.onmicrosoft.com",
                      "client_id": "3f2b9c7e-1a2b-4c3d-8e9f-0a1b2c3d4e5f",
                      "credential_kind": "secret", "client_secret": SECRET}  # fmt: skip
        steps: list[tuple[Callable[[], httpx.Response], str]] = [
            (form("/tenants/new", **new_tenant), "tenant.added"),
            (
                form(
                    "/tenants/contoso/credential",
                    credential_kind="secret",
                    client_secret=NEW_SECRET,
                ),
                "tenant.credential_rotated",
            ),
            (
                form("/catalog/price", product=SKU, amount="12.5", currency="EUR", term="monthly"),
                "price.set",
            ),
            (
                lambda: client.put(
                    f"/api/v1/prices/{SKU}",
                    headers=bearer,
                    json={"amount": "13", "currency": "EUR", "term": "monthly"},
                ),
                "price.set",
            ),
            (lambda: client.delete(f"/api/v1/prices/{SKU}", headers=bearer), "price.removed"),
            (form("/catalog/exclusion", product=SKU, scope="alerts"), "exclusion.set"),
            (form("/catalog/exclusion", product=SKU, scope=""), "exclusion.removed"),
            (form("/catalog/name", product=SKU, name="Our E5"), "product_name.set"),
            (
                form("/alerts/rules", kind="low_available", destination="hook", threshold="3"),
                "alert_rule.added",
            ),
            (form("/alerts/rules/1/remove"), "alert_rule.removed"),
            (form("/accounts", username="bob", role="viewer"), "account.created"),
            (form("/accounts/bob/disable"), "account.disabled"),
            (form("/accounts/bob/tokens/revoke"), "token.revoked_all"),
            (form("/me/tokens", name="laptop", expires_days="30"), "token.created"),
            (form("/me/tokens/2/revoke"), "token.revoked"),
            (lambda: client.get("/exports/balance.csv"), "export.downloaded"),
            (lambda: client.get("/exports/users.xlsx"), "export.downloaded"),
            (lambda: client.get("/changes.csv"), "export.downloaded"),
            (lambda: client.get("/report", params={"format": "xlsx"}), "export.downloaded"),
            (form("/tenants/contoso/remove", confirm_name="contoso"), "tenant.removed"),
            (form("/logout"), "local.sign_out"),
        ]
        pages: list[str] = []
        for step, action in steps:
            mark = last_id(engine)
            response = step()
            assert response.status_code < 400, (action, response.status_code, response.text)
            pages.append(
                response.text if "text" in response.headers.get("content-type", "") else ""
            )
            events = events_after(engine, mark)
            assert [e.action for e in events] == [action]
            assert (events[0].actor, events[0].address, events[0].outcome) == (
                "ada",
                CLIENT_ADDRESS,
                "ok",
            ), action
    # The password and the token shown once on their pages are secrets of this test too.
    shown = [m.group(1) for page in pages for m in SHOWN_ONCE.finditer(page)]
    assert len(shown) == 2, shown
    assert_no_secret(engine, [SECRET, NEW_SECRET, WEBHOOK, PASSWORD, api_token, *shown])
    engine.dispose()
