"""Sign in with Microsoft end to end: real HTTP, the emulator's Entra ID over TLS, real MSAL."""

from __future__ import annotations

import hashlib
import uuid
from base64 import urlsafe_b64encode
from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select

from licensewatch.emulator.sso_setup import add_sso_app
from licensewatch.emulator.state import Tenant
from licensewatch.graph.http import ssl_context
from licensewatch.services.audit import recent
from licensewatch.storage.database import session_scope
from licensewatch.storage.models.accounts import Account
from sso_fixtures import (
    BREAK_GLASS_PASSWORD,
    VIEWER_PASSWORD,
    SsoStack,
    authorize_query,
    sign_in_with_microsoft,
)
from web_fixtures import CSRF_INPUT


def _account(stack: SsoStack, person: str) -> Account:
    with session_scope(stack.engine, write=False) as session:
        upn = stack.setup.people[person]
        account = session.scalars(select(Account).where(Account.username == upn)).one()
        session.expunge(account)
        return account


def test_the_sign_in_page_offers_microsoft_and_the_request_carries_pkce(sso: SsoStack) -> None:
    with httpx.Client(base_url=sso.base_url) as app:
        assert "Sign in with Microsoft" in app.get("/login").text
        query = authorize_query(app)
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43  # base64url of a SHA-256
    assert query["state"]
    assert query["nonce"]
    assert query["client_id"] == sso.setup.client_id
    assert query["redirect_uri"] == f"{sso.base_url}/auth/callback"
    assert "openid" in query["scope"].split()
    assert query["response_mode"] == "form_post"  # the code never lands in a URL


def test_an_app_role_admin_signs_in_and_gets_a_fresh_admin_session(sso: SsoStack) -> None:
    with httpx.Client(base_url=sso.base_url) as app:
        app.cookies.set("lw_session", "planted-by-an-attacker")
        answer = sign_in_with_microsoft(app, sso, "admin")
        assert answer.status_code == 303, answer.text
        assert answer.headers["location"] == "/tenants"
        session = answer.cookies.get("lw_session")
        assert session
        assert session != "planted-by-an-attacker"
        page = app.get("/accounts")  # admin only
        assert page.status_code == 200
    account = _account(sso, "admin")
    assert (account.role, account.source) == ("admin", "sso")
    assert account.external_id == f"{sso.tenant.tenant_id}:{sso.tenant.user(account.username).id}"  # type: ignore[union-attr]
    assert recent(sso.engine)[0].outcome == "ok"


def test_a_viewer_through_a_group_assigned_role_reads_but_cannot_administer(sso: SsoStack) -> None:
    with httpx.Client(base_url=sso.base_url) as app:
        assert sign_in_with_microsoft(app, sso, "viewer").status_code == 303
        assert app.get("/").status_code == 200
        assert app.get("/accounts").status_code == 403
    assert _account(sso, "viewer").role == "viewer"


def test_no_role_means_no_access_with_the_entra_step_to_fix_it(sso: SsoStack) -> None:
    with httpx.Client(base_url=sso.base_url) as app:
        answer = sign_in_with_microsoft(app, sso, "norole")
        assert answer.status_code == 403
        assert "licensewatch.Viewer" in answer.text
        assert "Users and groups" in answer.text
        assert "lw_session" not in answer.cookies
    event = recent(sso.engine)[0]
    assert (event.action, event.outcome) == ("sso.sign_in", "refused")
    assert event.detail is not None
    assert event.detail.startswith("no_role")


def test_configured_groups_map_roles_also_through_the_groups_overage(sso: SsoStack) -> None:
    sso.configure(admin_groups=(sso.setup.admins_group,), viewer_groups=(sso.setup.viewers_group,))
    for person in ("grouped", "overage"):  # overage: Graph checkMemberGroups with an app token
        with httpx.Client(base_url=sso.base_url) as app:
            answer = sign_in_with_microsoft(app, sso, person)
            assert answer.status_code == 303, answer.text
            assert app.get("/accounts").status_code == 200
        assert _account(sso, person).role == "admin"


def test_a_role_taken_away_in_entra_is_taken_away_at_the_next_sign_in(sso: SsoStack) -> None:
    with httpx.Client(base_url=sso.base_url) as app:
        assert sign_in_with_microsoft(app, sso, "admin").status_code == 303
    app_registration = sso.tenant.apps[sso.setup.client_id]
    app_registration.role_assignments[sso.tenant.user(sso.setup.people["admin"]).id] = {  # type: ignore[union-attr]
        "licensewatch.Viewer"
    }
    with httpx.Client(base_url=sso.base_url) as app:
        assert sign_in_with_microsoft(app, sso, "admin").status_code == 303
        assert app.get("/accounts").status_code == 403
    assert _account(sso, "admin").role == "viewer"


@pytest.mark.parametrize("fault", ["signature", "audience", "issuer", "nonce", "expired"])
def test_a_bad_id_token_is_refused_with_a_page_and_an_audit_entry(
    sso: SsoStack, fault: str
) -> None:
    httpx.post(
        f"{sso.emulator.base_url}/_emulator/sso/id-token-fault",
        json={"fault": fault},
        verify=ssl_context(str(sso.emulator.ca_bundle)),
    )
    with httpx.Client(base_url=sso.base_url) as app:
        answer = sign_in_with_microsoft(app, sso, "admin")
        assert answer.status_code == 401, answer.text
        assert 'id="sso-error"' in answer.text
        assert "lw_session" not in answer.cookies
    event = recent(sso.engine)[0]
    assert event.outcome == "refused"
    assert event.detail is not None
    assert event.detail.startswith(fault)


def test_a_forged_or_replayed_callback_is_refused(sso: SsoStack) -> None:
    with httpx.Client(base_url=sso.base_url) as app:
        answer = sign_in_with_microsoft(app, sso, "admin")
        assert answer.status_code == 303
        # The same return again (e.g. from browser history): the sign-in was used once.
        replay = app.get("/auth/callback?state=y", follow_redirects=False)
        assert replay.status_code == 401
    with httpx.Client(base_url=sso.base_url) as other:
        state = authorize_query(other)["state"]  # a sign-in started in this browser...
        forged = other.post("/auth/callback", data={"code": "abc", "state": "not-ours"})
        assert forged.status_code == 401  # ...an answer to no sign-in under way...
        stolen = other.get("/auth/callback?state=" + state, follow_redirects=False)
        assert stolen.status_code == 401  # ...and no answer from Entra yet


def test_local_sign_in_can_be_kept_for_break_glass_admins_only(sso: SsoStack) -> None:
    sso.configure(local_sign_in="admins")
    for username, password, expected in (
        ("localviewer", VIEWER_PASSWORD, 403),
        ("breakglass", BREAK_GLASS_PASSWORD, 303),
    ):
        with httpx.Client(base_url=sso.base_url) as app:
            page = app.get("/login")
            assert "administrators only" in page.text
            token = CSRF_INPUT.search(page.text)
            assert token is not None
            answer = app.post(
                "/login",
                data={"username": username, "password": password, "csrf_token": token.group(1)},
                follow_redirects=False,
            )
            assert answer.status_code == expected, (username, answer.text)


def test_sso_accounts_have_no_password_to_sign_in_with(sso: SsoStack) -> None:
    with httpx.Client(base_url=sso.base_url) as app:
        assert sign_in_with_microsoft(app, sso, "admin").status_code == 303
    for password in ("!sso", "", "sso"):
        with httpx.Client(base_url=sso.base_url) as app:
            token = CSRF_INPUT.search(app.get("/login").text)
            assert token is not None
            answer = app.post(
                "/login",
                data={
                    "username": sso.setup.people["admin"],
                    "password": password,
                    "csrf_token": token.group(1),
                },
                follow_redirects=False,
            )
            assert answer.status_code in (401, 422)


def test_disabled_sso_sends_people_back_to_the_local_form(sso: SsoStack) -> None:
    assert sso.service.disable()
    with httpx.Client(base_url=sso.base_url) as app:
        assert "Sign in with Microsoft" not in app.get("/login").text
        answer = app.get("/auth/login", follow_redirects=False)
        assert (answer.status_code, answer.headers["location"]) == (303, "/login")


def _challenge(verifier: str) -> str:
    return urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def test_the_emulator_refuses_what_entra_refuses(sso: SsoStack) -> None:
    """Wrong redirect URI (50011), bad code verifier (501481) and a reused code (54005)."""
    authority = f"{sso.emulator.base_url}/{sso.tenant.tenant_id}/oauth2/v2.0"
    verify = ssl_context(str(sso.emulator.ca_bundle))
    redirect = f"{sso.base_url}/auth/callback"
    params = {
        "client_id": sso.setup.client_id,
        "response_type": "code",
        "redirect_uri": "https://evil.example/callback",
        "scope": "openid profile",
        "state": "s",
        "nonce": "n",
        "code_challenge": _challenge("v" * 43),
        "code_challenge_method": "S256",
    }
    with httpx.Client(verify=verify) as entra:
        wrong = entra.get(f"{authority}/authorize", params=params)
        assert wrong.status_code == 400
        assert "AADSTS50011" in wrong.text
        params["redirect_uri"] = redirect
        signed = entra.post(
            f"{authority}/authorize",
            data={**params, "login": sso.setup.people["admin"], "passwd": sso.setup.password},
        )
        assert signed.status_code == 302
        code = parse_qs(urlsplit(signed.headers["location"]).query)["code"][0]
        grant = {
            "grant_type": "authorization_code",
            "client_id": sso.setup.client_id,
            "client_secret": sso.setup.client_secret,
            "code": code,
            "redirect_uri": redirect,
        }
        bad = entra.post(f"{authority}/token", data={**grant, "code_verifier": "w" * 43})
        assert bad.status_code == 400
        assert bad.json()["error_codes"] == [501481]
        reused = entra.post(f"{authority}/token", data={**grant, "code_verifier": "v" * 43})
        assert reused.status_code == 400
        assert reused.json()["error_codes"] == [54005]


def test_scope_groups_limit_viewers_to_their_tenants(sso: SsoStack) -> None:
    sso.configure(scope_groups={sso.setup.viewers_group: ("contoso", "tailspin")})
    for person in ("viewer", "admin"):
        with httpx.Client(base_url=sso.base_url) as app:
            assert sign_in_with_microsoft(app, sso, person).status_code == 303
    assert _account(sso, "viewer").tenant_scope == ["contoso", "tailspin"]
    assert _account(sso, "admin").tenant_scope is None  # administrators see every tenant


def test_multi_tenant_mode_signs_in_people_of_allowed_tenants_only(sso: SsoStack) -> None:
    """An MSP's staff from several tenants, through `organizations`; others are refused."""
    redirect = [f"{sso.base_url}/auth/callback"]
    other = Tenant(str(uuid.uuid4()), "partner.onmicrosoft.com", "Partner Ltd")
    sso.emulator.world.add_tenant(other)
    partner = add_sso_app(other, redirect, client_id=sso.setup.client_id)
    sso.configure(tenant_id="organizations", allowed_tenants=(sso.tenant.tenant_id,))
    with httpx.Client(base_url=sso.base_url) as app:
        assert sign_in_with_microsoft(app, sso, "admin").status_code == 303
    with httpx.Client(base_url=sso.base_url) as app:
        refused = sign_in_with_microsoft(app, replace(sso, setup=partner), "admin")
        assert refused.status_code == 403
        assert other.tenant_id in refused.text
    sso.configure(
        tenant_id="organizations", allowed_tenants=(sso.tenant.tenant_id, other.tenant_id)
    )
    with httpx.Client(base_url=sso.base_url) as app:
        answer = sign_in_with_microsoft(app, replace(sso, setup=partner), "admin")
        assert answer.status_code == 303, answer.text
