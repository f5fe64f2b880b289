"""Every response carries `Server-Timing: app;dur=<ms>`, and token checks stay immediate."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import delete, update

from licensewatch.services.accounts import create_token, digest
from licensewatch.storage.database import session_scope
from licensewatch.storage.models.accounts import Account, ApiToken
from licensewatch.storage.models.base import utcnow
from licensewatch.web.timing import app_duration_ms
from web_fixtures import WebEnv


def _duration(response: httpx.Response) -> float:
    header = response.headers.get("server-timing")
    assert header is not None, response.headers
    value = app_duration_ms(header)
    assert value is not None, header
    return value


@pytest.mark.parametrize(
    ("path", "status"),
    [("/", 200), ("/users?q=user", 200), ("/static/app.css", 200), ("/no-such-page", 404)],
)
def test_pages_and_files_carry_their_server_time(
    admin: tuple[httpx.Client, str], path: str, status: int
) -> None:
    client, _ = admin
    response = client.get(path)
    assert response.status_code == status
    assert 0 <= _duration(response) < 60_000


def test_api_answers_and_refusals_carry_their_server_time(web: WebEnv) -> None:
    with httpx.Client(base_url=web.base_url) as client:
        ok = client.get("/api/v1/balance", headers={"authorization": f"Bearer {web.admin_token}"})
        refused = client.get("/api/v1/balance")
    assert ok.status_code == 200
    assert refused.status_code == 401
    assert _duration(ok) >= 0
    assert _duration(refused) >= 0


def test_the_header_parser_reads_only_the_app_metric() -> None:
    assert app_duration_ms("app;dur=12.5") == 12.5
    assert app_duration_ms("db;dur=3, app;desc=x;dur=7") == 7.0
    assert app_duration_ms("db;dur=3") is None
    assert app_duration_ms("app;dur=abc") is None
    assert app_duration_ms(None) is None


def _balance(web: WebEnv, token: str) -> int:
    with httpx.Client(base_url=web.base_url) as client:
        headers = {"authorization": f"Bearer {token}"}
        return client.get("/api/v1/balance", headers=headers).status_code


def test_a_deleted_token_is_refused_at_once(web: WebEnv) -> None:
    token = create_token(web.engine, "victor", "short-lived")
    assert _balance(web, token) == 200
    assert _balance(web, token[:-1] + ("A" if token[-1] != "A" else "B")) == 401
    with session_scope(web.engine) as session:
        session.execute(delete(ApiToken).where(ApiToken.token_hash == digest(token)))
    assert _balance(web, token) == 401


def test_an_expired_token_and_a_disabled_account_are_refused_at_once(web: WebEnv) -> None:
    token = create_token(web.engine, "victor", "expiring")
    assert _balance(web, token) == 200
    with session_scope(web.engine) as session:
        session.execute(
            update(ApiToken).where(ApiToken.token_hash == digest(token)).values(expires_at=utcnow())
        )
    assert _balance(web, token) == 401
    other = create_token(web.engine, "victor", "account")
    assert _balance(web, other) == 200
    with session_scope(web.engine) as session:
        session.execute(update(Account).where(Account.username == "victor").values(disabled=True))
    try:
        assert _balance(web, other) == 401
    finally:
        with session_scope(web.engine) as session:
            session.execute(
                update(Account).where(Account.username == "victor").values(disabled=False)
            )
