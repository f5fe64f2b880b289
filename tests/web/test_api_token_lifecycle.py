"""API tokens: expiry by default, list and revoke (CLI and web), revoked with a password change."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from typer.testing import CliRunner, Result

from licensewatch.cli import app
from licensewatch.services.accounts import create_token, list_tokens
from licensewatch.storage.models.base import utcnow
from web_fixtures import ADMIN_PASSWORD, VIEWER_PASSWORD, WebEnv, sign_in


@pytest.fixture
def cli(web: WebEnv, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("LICENSEWATCH_HOME", str(web.settings.home))
    monkeypatch.setenv("LICENSEWATCH_DATABASE_URL", web.settings.database_url)
    return CliRunner()


def _invoke(cli: CliRunner, *args: str, stdin: str | None = None) -> Result:
    result = cli.invoke(app, list(args), input=stdin)
    assert "Traceback" not in result.output, result.output
    return result


def _status(web: WebEnv, token: str) -> int:
    headers = {"authorization": f"Bearer {token}"}
    return httpx.get(f"{web.base_url}/api/v1/balance", headers=headers).status_code


def _token_id(web: WebEnv, username: str, name: str) -> int:
    return next(t.id for t in list_tokens(web.engine, username) if t.name == name)


def test_new_tokens_expire_after_90_days_unless_told_otherwise(web: WebEnv, cli: CliRunner) -> None:
    create_token(web.engine, "victor", "default")
    default = next(t for t in list_tokens(web.engine, "victor") if t.name == "default")
    assert default.expires_at is not None
    assert abs(default.expires_at - (utcnow() + timedelta(days=90))) < timedelta(minutes=5)
    assert (
        _invoke(cli, "token", "create", "victor", "--name", "day", "--expires-in", "1d").exit_code
        == 0
    )
    assert (
        _invoke(cli, "token", "create", "victor", "--name", "forever", "--no-expiry").exit_code == 0
    )
    both = _invoke(cli, "token", "create", "victor", "--expires-in", "1d", "--no-expiry")
    assert both.exit_code == 2
    absurd = _invoke(cli, "token", "create", "victor", "--expires-in", "99999999999d")
    assert absurd.exit_code == 2
    assert "--expires-in" in absurd.stderr
    tokens = {t.name: t for t in list_tokens(web.engine, "victor")}
    day = tokens["day"].expires_at
    assert day is not None
    assert abs(day - (utcnow() + timedelta(days=1))) < timedelta(minutes=5)
    assert tokens["forever"].expires_at is None


def test_cli_lists_and_revokes_tokens(web: WebEnv, cli: CliRunner) -> None:
    token = create_token(web.engine, "victor", "script")
    assert _status(web, token) == 200
    listed = _invoke(cli, "token", "list", "victor")
    assert listed.exit_code == 0
    token_id = _token_id(web, "victor", "script")
    assert re.search(rf"\b{token_id}\b.*victor.*script.*active", listed.stdout)
    assert token not in listed.stdout
    revoked = _invoke(cli, "token", "revoke", str(token_id))
    assert revoked.exit_code == 0, revoked.output
    assert _status(web, token) == 401
    assert re.search(rf"\b{token_id}\b.*script.*revoked", _invoke(cli, "token", "list").stdout)
    assert _invoke(cli, "token", "revoke", "987654").exit_code == 2
    first, second = (create_token(web.engine, "victor", f"bulk{i}") for i in range(2))
    everything = _invoke(cli, "token", "revoke", "--all-of", "victor")
    assert everything.exit_code == 0
    assert _status(web, first) == _status(web, second) == 401


def test_a_password_change_revokes_the_tokens_unless_kept(web: WebEnv, cli: CliRunner) -> None:
    kept = create_token(web.engine, "victor", "kept")
    changed = _invoke(
        cli, "user", "passwd", "victor", "--password-stdin", "--keep-tokens",
        stdin=VIEWER_PASSWORD + "\n",
    )  # fmt: skip
    assert changed.exit_code == 0, changed.output
    assert _status(web, kept) == 200
    changed = _invoke(
        cli, "user", "passwd", "victor", "--password-stdin", stdin=VIEWER_PASSWORD + "\n"
    )
    assert changed.exit_code == 0, changed.output
    assert "API tokens revoked" in changed.stdout
    assert _status(web, kept) == 401
    assert _status(web, web.admin_token) == 200  # other accounts' tokens are untouched


def test_the_account_page_creates_lists_and_revokes_ones_own_tokens(web: WebEnv) -> None:
    others = create_token(web.engine, "alice", "alice's")
    with httpx.Client(base_url=web.base_url) as client:
        csrf = sign_in(client, "victor", VIEWER_PASSWORD)
        page = client.post(
            "/me/tokens", data={"csrf_token": csrf, "name": "monthly", "expires_days": "30"}
        )
        found = re.search(r'id="new-token">([^<]+)<', page.text)
        assert found is not None
        token = found.group(1)
        assert _status(web, token) == 200
        monthly = next(t for t in list_tokens(web.engine, "victor") if t.name == "monthly")
        assert monthly.expires_at is not None
        assert monthly.expires_at - utcnow() < timedelta(days=31)
        assert f"/me/tokens/{monthly.id}/revoke" in page.text
        odd = client.post("/me/tokens", data={"csrf_token": csrf, "name": "x", "expires_days": "7"})
        assert odd.status_code == 422
        # Another account's token id: not found, and it keeps working.
        alices = _token_id(web, "alice", "alice's")
        refused = client.post(f"/me/tokens/{alices}/revoke", data={"csrf_token": csrf})
        assert refused.status_code == 404
        assert _status(web, others) == 200
        done = client.post(f"/me/tokens/{monthly.id}/revoke", data={"csrf_token": csrf})
        assert done.status_code == 200
        assert "revoked" in done.text
        assert _status(web, token) == 401


def test_an_admin_revokes_an_accounts_tokens_from_the_accounts_page(web: WebEnv) -> None:
    token = create_token(web.engine, "victor", "to revoke")
    with httpx.Client(base_url=web.base_url) as client:
        csrf = sign_in(client, "alice", ADMIN_PASSWORD)
        response = client.post("/accounts/victor/tokens/revoke", data={"csrf_token": csrf})
        assert response.status_code == 200
        assert "API token(s) of victor revoked" in response.text
    assert _status(web, token) == 401
    assert _status(web, web.admin_token) == 200
