"""The sign-in throttle: spraying from one source and from many, forged X-Forwarded-For, workers."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Literal

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from licensewatch.cli import app
from licensewatch.services import accounts, passwords
from licensewatch.services.accounts import create_account
from licensewatch.services.sign_in import Refused, Scope, SignInLimits, SignInThrottle, source_key
from licensewatch.settings import Settings
from licensewatch.storage import database
from licensewatch.storage.database import make_engine
from licensewatch.storage.models.accounts import Role, SignInAttempt
from licensewatch.web import create_app
from web_fixtures import CSRF_INPUT
from web_server import serve_in_thread

PASSWORD = "alice-password-123456"


class CountingHasher(PasswordHasher):
    """The real Argon2 hasher, counting its (expensive) verifications."""

    verified = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        CountingHasher.verified += 1
        return super().verify(hash, password)


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch) -> type[CountingHasher]:
    CountingHasher.verified = 0
    monkeypatch.setattr(passwords, "_hasher", CountingHasher())
    return CountingHasher


def _settings(tmp_path: Path, **limits: Any) -> Settings:
    return Settings(home=tmp_path / "home", database_url=f"sqlite:///{tmp_path / 'w.db'}", **limits)


def _engine(settings: Settings) -> Engine:
    engine = make_engine(settings.database_url)
    create_account(engine, "alice", Role.ADMIN, PASSWORD)
    return engine


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Any]:
    """Starts apps over one database (several = several `serve` processes sharing it)."""
    with ExitStack() as stack:

        def start(settings: Settings, engine: Engine) -> str:
            return stack.enter_context(serve_in_thread(create_app(settings, engine=engine)))

        yield start


def _login(
    base_url: str, username: str, password: str, forwarded_for: str | None = None
) -> httpx.Response:
    headers = {"x-forwarded-for": forwarded_for} if forwarded_for else {}
    with httpx.Client(base_url=base_url, headers=headers, timeout=60) as client:
        found = CSRF_INPUT.search(client.get("/login").text)
        assert found is not None
        data = {"username": username, "password": password, "csrf_token": found.group(1)}
        return client.post("/login", data=data, follow_redirects=False)


def test_spraying_usernames_from_one_source_is_stopped(
    tmp_path: Path, serve: Any, counting: type[CountingHasher]
) -> None:
    settings = _settings(tmp_path, sign_in_limit_source=3)
    engine = _engine(settings)
    base = serve(settings, engine)
    for name in ("bob", "carol", "alice"):
        assert _login(base, name, "Winter2026!").status_code == 401
    refused = _login(base, "dave", "Winter2026!")
    assert refused.status_code == 429
    assert "from your address" in refused.text
    assert int(refused.headers["retry-after"]) > 0
    # Even the right password is not checked: the source is throttled, before any hashing.
    hashed = counting.verified
    assert _login(base, "alice", PASSWORD).status_code == 429
    assert counting.verified == hashed == 3
    engine.dispose()


def test_forged_x_forwarded_for_is_ignored_unless_from_a_configured_proxy(
    tmp_path: Path, serve: Any
) -> None:
    settings = _settings(tmp_path)
    engine = _engine(settings)
    base = serve(settings, engine)
    for index in range(5):
        response = _login(base, "alice", "wrong password!", forwarded_for=f"203.0.113.{index}")
        assert response.status_code == 401
    # A locked-out user does not get back in by claiming another address.
    assert _login(base, "alice", PASSWORD, forwarded_for="198.51.100.7").status_code == 429
    with engine.connect() as connection:
        sources = set(connection.scalars(select(SignInAttempt.source)))
    assert sources == {"127.0.0.1"}
    engine.dispose()


def test_a_trusted_proxy_names_the_client_but_the_account_limit_spans_sources(
    tmp_path: Path, serve: Any
) -> None:
    settings = _settings(tmp_path, trusted_proxies="127.0.0.0/8", sign_in_limit_account=4)
    engine = _engine(settings)
    base = serve(settings, engine)
    for index in range(4):
        response = _login(base, "alice", "wrong password!", forwarded_for=f"203.0.113.{index}")
        assert response.status_code == 401
    refused = _login(base, "ALICE", PASSWORD, forwarded_for="198.51.100.7")
    assert refused.status_code == 429
    assert "for this account" in refused.text
    with engine.connect() as connection:
        sources = set(connection.scalars(select(SignInAttempt.source)))
    assert sources == {f"203.0.113.{index}" for index in range(4)}
    engine.dispose()


def test_spraying_from_many_sources_meets_the_total_limit(tmp_path: Path, serve: Any) -> None:
    settings = _settings(tmp_path, trusted_proxies="127.0.0.1", sign_in_limit_total=3)
    engine = _engine(settings)
    base = serve(settings, engine)
    for index in range(3):
        response = _login(base, f"user{index}", "Spring2026!", forwarded_for=f"192.0.2.{index}")
        assert response.status_code == 401
    refused = _login(base, "user9", "Spring2026!", forwarded_for="192.0.2.99")
    assert refused.status_code == 429
    assert "on this server" in refused.text
    engine.dispose()


def test_the_limit_holds_across_serve_processes_sharing_a_database(
    tmp_path: Path, serve: Any
) -> None:
    settings = _settings(tmp_path, sign_in_limit_account_source=4)
    engine = _engine(settings)
    first = serve(settings, engine)
    second_engine = make_engine(settings.database_url)
    second = serve(settings, second_engine)
    for base in (first, second, first, second):
        assert _login(base, "alice", "wrong password!").status_code == 401
    assert _login(second, "alice", PASSWORD).status_code == 429
    assert _login(first, "alice", PASSWORD).status_code == 429
    engine.dispose()
    second_engine.dispose()


def test_a_parallel_burst_gets_no_more_checks_than_the_limit(
    tmp_path: Path, serve: Any, counting: type[CountingHasher]
) -> None:
    settings = _settings(tmp_path, sign_in_limit_source=4)
    engine = _engine(settings)
    base = serve(settings, engine)
    with ThreadPoolExecutor(16) as pool:
        codes = list(pool.map(lambda i: _login(base, f"u{i}", "x" * 12).status_code, range(16)))
    assert set(codes) <= {401, 429}
    assert 429 in codes
    assert codes.count(401) <= 4
    assert counting.verified == codes.count(401)
    # Refused attempts leave no row behind: a flood does not keep the limit up by itself.
    with engine.connect() as connection:
        rows = connection.scalar(select(func.count()).select_from(SignInAttempt))
    assert rows is not None
    assert rows <= 4
    engine.dispose()


def test_a_success_clears_that_sources_failures_of_the_account(tmp_path: Path, serve: Any) -> None:
    settings = _settings(tmp_path)
    engine = _engine(settings)
    base = serve(settings, engine)
    for _ in range(4):
        assert _login(base, "alice", "wrong password!").status_code == 401
    assert _login(base, "alice", PASSWORD).status_code == 303
    for _ in range(4):
        assert _login(base, "alice", "wrong password!").status_code == 401
    assert _login(base, "alice", PASSWORD).status_code == 303
    engine.dispose()


def test_ipv6_clients_are_counted_by_their_64_network() -> None:
    assert source_key("2001:db8:1:2:aaaa::1") == source_key("2001:db8:1:2:bbbb::9")
    assert source_key("2001:db8:1:2::1") != source_key("2001:db8:1:3::1")
    assert source_key("::ffff:192.0.2.1") == "192.0.2.1"
    assert source_key("not an address") == "not an address"


def test_an_unknown_proxy_entry_is_refused() -> None:
    with pytest.raises(ValueError, match="not an IP address or network"):
        Settings(trusted_proxies="proxy.example")


class PausingHasher(PasswordHasher):
    """The real hasher, stopping inside `verify` until the test has looked at the database."""

    def __init__(self) -> None:
        super().__init__()
        self.inside = threading.Event()
        self.release = threading.Event()

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        self.inside.set()
        assert self.release.wait(30)
        return super().verify(hash, password)


@pytest.mark.parametrize("username", ["alice", "nobody"])
def test_no_write_lock_is_held_while_a_password_is_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, username: str
) -> None:
    settings = _settings(tmp_path)
    engine = _engine(settings)
    hasher = PausingHasher()
    monkeypatch.setattr(passwords, "_hasher", hasher)
    with ThreadPoolExecutor(1) as pool:
        checking = pool.submit(accounts.authenticate, engine, username, PASSWORD)
        assert hasher.inside.wait(30)
        # Another writer (a sync, another sign-in) gets the lock at once, without waiting.
        other = sqlite3.connect(tmp_path / "w.db", timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
        finally:
            other.close()
            hasher.release.set()
        principal = checking.result()
    assert (principal is not None) == (username == "alice")
    engine.dispose()


def test_user_unlock_lets_a_throttled_account_in_again(
    tmp_path: Path, serve: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _settings(tmp_path)
    engine = _engine(settings)
    base = serve(settings, engine)
    for _ in range(5):
        assert _login(base, "alice", "wrong password!").status_code == 401
    assert _login(base, "alice", PASSWORD).status_code == 429
    monkeypatch.setenv("LICENSEWATCH_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("LICENSEWATCH_HOME", str(settings.home))
    result = CliRunner().invoke(app, ["user", "unlock", "Alice"])
    assert result.exit_code == 0, result.output
    assert _login(base, "alice", PASSWORD).status_code == 303
    engine.dispose()


def test_the_throttle_on_both_database_engines(database_url: str) -> None:
    engine = make_engine(database_url)
    throttle = SignInThrottle(engine, SignInLimits(per_account_source=2, per_source=3, total=50))
    try:
        first = throttle.begin("Alice", "192.0.2.1")
        assert isinstance(first, int)
        assert isinstance(throttle.begin("alice ", "192.0.2.1"), int)
        refused = throttle.begin("ALICE", "192.0.2.1")
        assert isinstance(refused, Refused)
        assert refused.scope is Scope.ACCOUNT_SOURCE
        assert 0 < refused.retry_after <= 15 * 60 + 1
        throttle.succeeded(first, "alice", "192.0.2.1")
        assert isinstance(throttle.begin("alice", "192.0.2.1"), int)
        # Racing attempts from one new address: no more get through than its limit.
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(lambda i: throttle.begin(f"u{i}", "198.51.100.9"), range(12)))
        admitted = [r for r in results if isinstance(r, int)]
        assert len(admitted) <= 3  # all may be refused if every row lands before a recount
        assert {r.scope for r in results if isinstance(r, Refused)} == {Scope.SOURCE}
    finally:
        engine.dispose()


def test_a_sign_in_behind_a_long_write_gets_503_not_500(
    tmp_path: Path, serve: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As if a sync's publish held SQLite's one write lock past the busy timeout.
    monkeypatch.setattr(database, "SQLITE_BUSY_TIMEOUT_MS", 200)
    settings = _settings(tmp_path)
    engine = _engine(settings)
    base = serve(settings, engine)
    holder = sqlite3.connect(tmp_path / "w.db", isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        busy = _login(base, "alice", PASSWORD)
        assert busy.status_code == 503
        assert busy.headers["retry-after"] == "60"
        assert "The server is busy" in busy.text
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert _login(base, "alice", PASSWORD).status_code == 303
    engine.dispose()
