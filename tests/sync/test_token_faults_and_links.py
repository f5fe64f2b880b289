"""Token-endpoint errors mapped to their fix and permanence; Graph links behind a proxy."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import Engine

from emulator_fixtures import EmulatorFactory
from licensewatch.emulator.app import create_app
from licensewatch.emulator.options import EmulatorOptions
from licensewatch.emulator.seed import build_world
from licensewatch.graph.client import GraphClient
from licensewatch.graph.connection import GraphConnection
from licensewatch.graph.retry import RetryPolicy
from licensewatch.storage.models import SyncKind, SyncStatus
from licensewatch.sync import full
from licensewatch.sync.runner import ClientFactory, run_sync
from reliability_support import Rig, change_world, register, same_data, snapshot, start_rig
from reliability_support import truth as truth_of

POLICY = RetryPolicy(min_delay=0.01, base_delay=0.01, max_delay=0.05, pause=0.02, sync_budget=5.0)


def factory(*, rewrite_links: bool = False) -> ClientFactory:
    def build(connection: GraphConnection) -> GraphClient:
        return GraphClient(connection, retry=POLICY, rewrite_links=rewrite_links)

    return build


def token_requests(rig: Rig) -> int:
    counts = rig.injector.requests.snapshot()["by_endpoint"]
    assert isinstance(counts, dict)
    return int(counts.get("entra token", 0))


@pytest.mark.parametrize(
    ("code", "kind", "fix"),
    [
        ("7000112", "app_disabled", "Enabled for users to sign-in?"),
        ("53003", "conditional_access", "Conditional Access"),
        ("500011", "resource_not_in_tenant", "--cloud CLOUD"),
        ("90038", "wrong_cloud", "national cloud"),
    ],
)
def test_a_permanent_token_error_names_its_setup_fix_and_is_not_retried(
    make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path, code: str, kind: str, fix: str
) -> None:
    """Was: these codes got "check the IDs" (or nothing) as the fix."""
    rig = start_rig(make_emulator, tmp_path, users=20, seed=3)
    tenant_pk = register(engine, rig.tenant)
    rig.injector.configure(f"token-error={code}")
    rig.injector.requests.reset()
    result = run_sync(engine, tenant_pk, rig.connection(), client_factory=factory())
    assert result.status == SyncStatus.FAILED
    assert result.error_kind == f"AuthError:{kind}"
    assert fix in (result.error_message or "")
    assert f"AADSTS{code}" in (result.error_message or "")
    assert token_requests(rig) == 1  # permanent: asked once, never retried


def test_ests_throttling_is_transient_and_retried_after_its_retry_after(
    make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path
) -> None:
    """Was: an unknown (permanent) failure. MSAL caches the 429 for Retry-After s: we wait it."""
    rig = start_rig(make_emulator, tmp_path, users=20, seed=3)
    tenant_pk = register(engine, rig.tenant)
    rig.injector.configure("token-throttle=1#1")
    rig.injector.requests.reset()
    result = run_sync(engine, tenant_pk, rig.connection(), client_factory=factory())
    assert result.ok, result.error_message
    assert token_requests(rig) == 2
    assert same_data(snapshot(engine, tenant_pk), truth_of(rig.tenant))


def proxied_rig(make_emulator: EmulatorFactory, tmp_path: Path) -> Rig:
    """A custom Graph endpoint whose links still name graph.microsoft.com (a passing proxy)."""
    world = build_world(tenants=1, users=45, seed=5, scenario="messy", cert_dir=tmp_path)
    app = create_app(world, EmulatorOptions(link_host="https://graph.microsoft.com"))
    emulator = make_emulator(world, app=app)
    return Rig(emulator, app.state.injector, next(iter(world.tenants.values())))


def test_links_naming_the_cloud_host_are_refused_unless_the_rewrite_is_enabled(
    make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(full, "USER_PAGE_SIZE", 10)
    rig = proxied_rig(make_emulator, tmp_path)
    tenant_pk = register(engine, rig.tenant)
    connection = rig.connection()
    refused = run_sync(engine, tenant_pk, connection, client_factory=factory())
    assert refused.status == SyncStatus.FAILED  # never a silent follow to another host
    assert "graph.microsoft.com" in (refused.error_message or "")
    assert "LICENSEWATCH_GRAPH_LINK_REWRITE" in (refused.error_message or "")

    rewritten = run_sync(engine, tenant_pk, connection, client_factory=factory(rewrite_links=True))
    assert rewritten.ok, rewritten.error_message
    assert same_data(snapshot(engine, tenant_pk), truth_of(rig.tenant))
    change_world(rig.tenant)  # the stored deltaLink names graph.microsoft.com too
    delta = run_sync(
        engine, tenant_pk, connection, mode="delta", client_factory=factory(rewrite_links=True)
    )
    assert delta.ok, delta.error_message
    assert delta.kind == SyncKind.DELTA
    assert same_data(snapshot(engine, tenant_pk), truth_of(rig.tenant))


def test_the_rewrite_never_touches_another_host(
    make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(full, "USER_PAGE_SIZE", 10)
    world = build_world(tenants=1, users=25, seed=5, scenario="messy", cert_dir=tmp_path)
    app = create_app(world, EmulatorOptions(link_host="https://graph.evil.example"))
    rig = Rig(make_emulator(world, app=app), app.state.injector, next(iter(world.tenants.values())))
    tenant_pk = register(engine, rig.tenant)
    result = run_sync(
        engine, tenant_pk, rig.connection(), client_factory=factory(rewrite_links=True)
    )
    assert result.status == SyncStatus.FAILED
    assert "graph.evil.example" in (result.error_message or "")


def test_the_rewrite_is_off_by_default_and_set_by_the_environment(
    make_emulator: EmulatorFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rig = start_rig(make_emulator, tmp_path, users=15, seed=3)
    connection = replace(rig.connection())
    link = "https://graph.microsoft.com/v1.0/users?$skiptoken=abc"
    with GraphClient(connection, retry=POLICY) as client, pytest.raises(ValueError, match="host"):
        client.url(link)
    monkeypatch.setenv("LICENSEWATCH_GRAPH_LINK_REWRITE", "true")
    with GraphClient(connection, retry=POLICY) as client:
        assert client.url(link) == f"{rig.emulator.base_url}/v1.0/users?$skiptoken=abc"
