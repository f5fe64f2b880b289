"""Resilience end to end (emulator over TLS, real MSAL, both engines): retries, pauses, resyncs."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from emulator_fixtures import EmulatorFactory
from licensewatch.graph.client import GraphClient
from licensewatch.graph.connection import GraphConnection
from licensewatch.graph.retry import RetryPolicy
from licensewatch.storage.models import SyncKind, SyncStatus
from licensewatch.sync import full
from licensewatch.sync.runner import ClientFactory, SyncResult, run_sync
from reliability_support import Rig, change_world, register, runs, same_data, snapshot, start_rig
from reliability_support import truth as truth_of

USERS = "@/v1.0/users"


class Clock(list[float]):
    """A fake sleep: records each wait instead of spending it (Retry-After of minutes, fast)."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def factory(policy: RetryPolicy) -> ClientFactory:
    def build(connection: GraphConnection) -> GraphClient:
        return GraphClient(connection, retry=policy, timeout=30.0)

    return build


def fast(**overrides: object) -> RetryPolicy:
    """The product's policy shape with small real waits (hundredths of a second)."""
    values: dict[str, object] = {
        "min_delay": 0.01,
        "base_delay": 0.01,
        "max_delay": 0.05,
        "pause": 0.02,
        "sync_budget": 5.0,
    }
    values.update(overrides)
    return RetryPolicy(**values)  # type: ignore[arg-type]


def synced(engine: Engine, rig: Rig, tenant_pk: int, policy: RetryPolicy, spec: str) -> SyncResult:
    """A first clean full sync, a visible change of the truth, then a full sync under `spec`."""
    first = run_sync(engine, tenant_pk, rig.connection(), client_factory=factory(fast()))
    assert first.ok, first.error_message
    change_world(rig.tenant)
    rig.injector.configure(spec)
    return run_sync(engine, tenant_pk, rig.connection(), client_factory=factory(policy))


@pytest.fixture
def rig(make_emulator: EmulatorFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Rig:
    monkeypatch.setattr(full, "USER_PAGE_SIZE", 10)  # 60 users: six pages, faults hit mid-read
    return start_rig(make_emulator, tmp_path, users=60, seed=11)


def test_six_429s_on_one_page_pause_the_chain_and_the_sync_completes(
    engine: Engine, rig: Rig
) -> None:
    """Was: the sixth 429 on one page aborted the whole full sync."""
    tenant_pk = register(engine, rig.tenant)
    policy = fast(max_attempts=6)
    result = synced(engine, rig, tenant_pk, policy, f"429=0.01{USERS}#after=2#8")
    assert result.ok, result.error_message
    assert result.retries >= 8
    assert same_data(snapshot(engine, tenant_pk), truth_of(rig.tenant))


def test_a_long_retry_after_is_honoured_and_zero_is_floored(engine: Engine, rig: Rig) -> None:
    """Was: `Retry-After: 150` failed after one attempt; `Retry-After: 0` retried back to back."""
    tenant_pk = register(engine, rig.tenant)
    clock = Clock()
    policy = fast(min_delay=1.0, sleep=clock, sync_budget=1800.0)
    spec = f"429=150{USERS}#after=2#1,503=0{USERS}#after=2#1"
    result = synced(engine, rig, tenant_pk, policy, spec)
    assert result.ok, result.error_message
    assert 150.0 in clock
    assert min(clock) >= 1.0  # the 0 waited the floor
    assert same_data(snapshot(engine, tenant_pk), truth_of(rig.tenant))


def test_500_and_502_are_retried(engine: Engine, rig: Rig) -> None:
    tenant_pk = register(engine, rig.tenant)
    spec = f"500{USERS}#after=2#1,502{USERS}#after=2#1,502@/v1.0/subscribedSkus#1"
    result = synced(engine, rig, tenant_pk, fast(), spec)
    assert result.ok, result.error_message
    assert result.retries >= 3
    assert same_data(snapshot(engine, tenant_pk), truth_of(rig.tenant))


def test_the_sync_budget_still_ends_a_storm_cleanly(engine: Engine, rig: Rig) -> None:
    tenant_pk = register(engine, rig.tenant)
    clock = Clock()
    policy = fast(sleep=clock, sync_budget=30.0, pause=5.0)
    result = synced(engine, rig, tenant_pk, policy, f"429=2{USERS}#after=2")
    assert result.status == SyncStatus.FAILED
    assert (result.error_kind or "").startswith("GraphThrottledError")
    assert 25.0 <= sum(clock) <= 30.0  # paused and retried up to the budget, never beyond
    assert 5.0 in clock


@pytest.mark.parametrize("code", ["syncStateNotFound", "resyncRequired"])
def test_a_delta_token_refused_with_400_falls_back_to_a_full_sync(
    engine: Engine, rig: Rig, code: str
) -> None:
    """Was: a 400 with Graph's resync codes failed the run (only 410 fell back)."""
    tenant_pk = register(engine, rig.tenant)
    first = run_sync(engine, tenant_pk, rig.connection(), client_factory=factory(fast()))
    assert first.ok, first.error_message
    change_world(rig.tenant)
    rig.injector.configure(f"delta-resync={code}")
    result = run_sync(
        engine, tenant_pk, rig.connection(), mode="delta", client_factory=factory(fast())
    )
    assert result.ok, result.error_message
    assert (result.kind, result.note) == (SyncKind.FULL, "delta_expired")
    record = runs(engine, tenant_pk)[-1]
    assert record.kind == SyncKind.FULL
    assert code in (record.error_message or "")  # the run says why it became a full sync
    assert same_data(snapshot(engine, tenant_pk), truth_of(rig.tenant))


@pytest.mark.parametrize("shards", [1, 4])
def test_an_expired_page_token_restarts_the_read_once(
    engine: Engine, rig: Rig, shards: int
) -> None:
    """Was: `Directory_ExpiredPageToken` mid-read failed the whole full sync."""
    tenant_pk = register(engine, rig.tenant)
    first = run_sync(engine, tenant_pk, rig.connection(), client_factory=factory(fast()))
    assert first.ok, first.error_message
    change_world(rig.tenant)
    rig.injector.configure(f"expire-pagetoken{USERS}#after=1#1")
    result = run_sync(
        engine, tenant_pk, rig.connection(), client_factory=factory(fast()), shards=shards
    )
    assert result.ok, result.error_message
    assert same_data(snapshot(engine, tenant_pk), truth_of(rig.tenant))


def test_an_expired_page_token_twice_fails_cleanly(engine: Engine, rig: Rig) -> None:
    tenant_pk = register(engine, rig.tenant)
    rig.injector.configure(f"expire-pagetoken{USERS}#after=1#2")
    result = run_sync(engine, tenant_pk, rig.connection(), client_factory=factory(fast()))
    assert result.status == SyncStatus.FAILED
    assert result.error_kind == "GraphError:Directory_ExpiredPageToken"


def test_a_sign_in_403_on_a_later_page_reads_on_without_sign_in(
    engine: Engine, rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Was: the signInActivity 403 was handled on page 1 only; on page 3 the sync failed."""
    monkeypatch.setattr(full, "SIGN_IN_PAGE_SIZE", 10)
    monkeypatch.setattr(full, "FLUSH_SECONDS", 0.0)  # pages staged before the 403 must stay
    rig.tenant.has_premium = True
    for app in rig.tenant.apps.values():
        app.roles.add("AuditLog.Read.All")
    tenant_pk = register(engine, rig.tenant)
    rig.injector.configure(f"signin-403{USERS}#after=2#1")
    result = run_sync(engine, tenant_pk, rig.connection(), client_factory=factory(fast()))
    assert result.ok, result.error_message
    assert same_data(snapshot(engine, tenant_pk), truth_of(rig.tenant))


@pytest.mark.parametrize("shards", [1, 4])
def test_a_user_repeated_on_a_later_page_after_a_flush_is_staged_once(
    engine: Engine, rig: Rig, monkeypatch: pytest.MonkeyPatch, shards: int
) -> None:
    """Issue 20.1. Was: the repeat hit the users primary key (IntegrityError/UniqueViolation)."""
    monkeypatch.setattr(full, "FLUSH_SECONDS", 0.0)  # a staging flush after every page
    tenant_pk = register(engine, rig.tenant)
    first = run_sync(engine, tenant_pk, rig.connection(), client_factory=factory(fast()))
    assert first.ok, first.error_message
    change_world(rig.tenant)
    rig.injector.configure(f"repeat-users=5{USERS}#after=1#3")
    result = run_sync(
        engine, tenant_pk, rig.connection(), client_factory=factory(fast()), shards=shards
    )
    assert result.ok, result.error_message
    assert result.users_read == len(truth_of(rig.tenant).users)
    assert same_data(snapshot(engine, tenant_pk), truth_of(rig.tenant))
