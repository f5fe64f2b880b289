"""Tokens and consent during a sync: expiry mid-sync, Entra down, consent revoked, delta 410."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from emulator_fixtures import EmulatorFactory
from licensewatch.emulator import mutations
from licensewatch.graph.auth import AccessToken, TokenProvider
from licensewatch.graph.client import GraphClient
from licensewatch.graph.connection import GraphConnection
from licensewatch.graph.errors import GraphAuthorizationError
from licensewatch.graph.retry import RetryPolicy
from licensewatch.storage.models import SyncKind, SyncStatus
from licensewatch.sync import full
from licensewatch.sync.runner import run_sync
from licensewatch.sync.work import SyncProgress
from reliability_support import (
    change_world,
    client_factory,
    register,
    runs,
    same_data,
    snapshot,
    start_rig,
    truth,
)


class CountingTokens(TokenProvider):
    """Counts the tokens really requested from Entra ID (cache hits are not counted)."""

    acquired = 0

    def _acquire(self) -> AccessToken:
        token = super()._acquire()
        self.acquired += 1
        return token


class Factory:
    """A client factory remembering its token providers (closed by the test)."""

    def __init__(self) -> None:
        self.providers: list[CountingTokens] = []

    def __call__(self, connection: GraphConnection) -> GraphClient:
        provider = CountingTokens(connection)
        self.providers.append(provider)
        policy = RetryPolicy(max_attempts=3, max_total_wait=2.0, base_delay=0.02)
        return GraphClient(connection, token_provider=provider, retry=policy)

    def close(self) -> None:
        for provider in self.providers:
            provider.close()


def test_token_expiring_mid_sync_is_refreshed_once(
    make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(full, "USER_PAGE_SIZE", 10)
    rig = start_rig(make_emulator, tmp_path, users=110, seed=12, token_lifetime_seconds=4)
    tenant_pk = register(engine, rig.tenant)
    rig.injector.configure("latency=400@/v1.0/users")  # 13 slow pages: about 5 s
    factory = Factory()
    try:
        result = run_sync(engine, tenant_pk, rig.connection(), client_factory=factory)
    finally:
        factory.close()
    assert result.ok, result.error_message
    assert 4000 < result.duration_ms < 7000  # outlived the first token, not the second
    assert factory.providers[0].acquired == 2
    assert same_data(snapshot(engine, tenant_pk), truth(rig.tenant))


def test_one_token_endpoint_hiccup_is_retried(
    make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path
) -> None:
    rig = start_rig(make_emulator, tmp_path, users=20, seed=13)
    tenant_pk = register(engine, rig.tenant)
    rig.injector.configure("token-down#1")
    # MSAL replays the 503 from its cache for 5 s: the retry waits that long, within budget.
    factory = client_factory(sync_budget=6.0)
    result = run_sync(engine, tenant_pk, rig.connection(), client_factory=factory)
    assert result.ok, result.error_message


def test_consent_revoked_mid_sync_fails_naming_the_permission(
    make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(full, "USER_PAGE_SIZE", 10)
    rig = start_rig(make_emulator, tmp_path, users=110, seed=14, token_lifetime_seconds=3)
    tenant_pk = register(engine, rig.tenant)
    connection = rig.connection()
    assert run_sync(engine, tenant_pk, connection, client_factory=client_factory()).ok
    before = snapshot(engine, tenant_pk)

    change_world(rig.tenant)
    rig.injector.configure("latency=400@/v1.0/users")  # outlive the 3 s token

    def revoke(event: SyncProgress) -> None:
        if event.phase == "users" and event.pages_read == 1:
            mutations.revoke_consent(rig.tenant)  # takes effect at the next token (as in Entra)

    result = run_sync(
        engine, tenant_pk, connection, client_factory=client_factory(), progress=revoke
    )
    assert result.status == SyncStatus.FAILED
    assert isinstance(result.error, GraphAuthorizationError)
    assert result.error.missing_permission == "User.Read.All"
    assert (result.error_kind or "").startswith("GraphAuthorizationError")
    assert runs(engine, tenant_pk)[-1].status == SyncStatus.FAILED
    assert snapshot(engine, tenant_pk) == before

    mutations.grant_consent(rig.tenant)
    rig.injector.configure("")
    recovered = run_sync(engine, tenant_pk, connection, client_factory=client_factory())
    assert recovered.ok, recovered.error_message
    assert same_data(snapshot(engine, tenant_pk), truth(rig.tenant))


def test_failed_run_record_names_the_missing_permission(
    make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path
) -> None:
    rig = start_rig(make_emulator, tmp_path, users=20, seed=16)
    tenant_pk = register(engine, rig.tenant)
    mutations.revoke_consent(rig.tenant)
    result = run_sync(engine, tenant_pk, rig.connection(), client_factory=client_factory())
    assert result.status == SyncStatus.FAILED
    assert "User.Read.All" in (runs(engine, tenant_pk)[-1].error_message or "")


def test_expired_delta_token_falls_back_and_recovers(
    make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path
) -> None:
    rig = start_rig(make_emulator, tmp_path, users=40, seed=15)
    tenant_pk = register(engine, rig.tenant)
    connection = rig.connection()
    assert run_sync(engine, tenant_pk, connection, client_factory=client_factory()).ok
    before = snapshot(engine, tenant_pk)
    change_world(rig.tenant)
    mutations.expire_delta_tokens(rig.tenant)
    result = run_sync(engine, tenant_pk, connection, mode="delta", client_factory=client_factory())
    assert result.ok, result.error_message  # 410 Gone: the runner falls back to a full read
    assert result.kind == SyncKind.FULL
    assert same_data(snapshot(engine, tenant_pk), truth(rig.tenant))
    assert snapshot(engine, tenant_pk) != before
    recovered = run_sync(engine, tenant_pk, connection, client_factory=client_factory())
    assert recovered.ok, recovered.error_message
    assert same_data(snapshot(engine, tenant_pk), truth(rig.tenant))
