"""Each tenant's MSAL app is kept across syncs, never past a new credential or a failure."""

from __future__ import annotations

import random
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from daemon_fleet import WRONG_SECRET, new_keyring, onboard, revoke_consent
from sqlalchemy import Engine

from emulator_fixtures import EmulatorFactory
from licensewatch.emulator.apps import ClientSecret
from licensewatch.emulator.seed import secret_value
from licensewatch.emulator.server import RunningEmulator
from licensewatch.emulator.state import utcnow
from licensewatch.services.tenants import SecretInput, TenantService, TenantSettings
from licensewatch.storage.database import make_engine
from licensewatch.sync.http_pool import SharedHttp
from licensewatch.sync.leases import ensure_schedules
from licensewatch.sync.scheduler import Outcome, SyncOptions, TenantOutcome, sync_tenant_once


@dataclass
class Fleet:
    emulator: RunningEmulator
    engine: Engine
    service: TenantService
    http: SharedHttp
    options: SyncOptions
    tenants: dict[str, int]

    def sync(self, name: str) -> TenantOutcome:
        pk = self.tenants[name]
        return sync_tenant_once(self.engine, pk, self.options, owner="test", force=True)

    def set_secret(self, name: str, secret: str) -> None:
        self.service.update(name, TenantSettings(credential=SecretInput(secret)))

    def app(self, index: int = 0) -> tuple[str, str]:
        info = self.emulator.info["tenants"][index]
        return info["tenant_id"], info["client_id"]

    def add_secret(self, index: int = 0) -> str:
        """A second secret on the tenant's app registration (an admin preparing a rotation)."""
        tenant_id, client_id = self.app(index)
        value = secret_value(random.Random(index + 99))
        app = self.emulator.world.tenants[tenant_id].apps[client_id]
        app.secrets.append(ClientSecret("new-key", value, "rotated", utcnow() + timedelta(days=30)))
        return value

    def revoke_secret(self, key_id: str, index: int = 0) -> None:
        """Expire a secret through the emulator's control API, as tests revoke credentials."""
        tenant_id, client_id = self.app(index)
        trust = ssl.create_default_context(cafile=str(self.emulator.ca_bundle))
        with httpx.Client(base_url=self.emulator.base_url, verify=trust) as control:
            answer = control.post(
                f"/_emulator/tenants/{tenant_id}/mutations",
                json={"op": "expire_secret", "client_id": client_id, "key_id": key_id},
            )
        assert answer.status_code == 200, answer.text
        assert answer.json()["expired"] == [key_id]

    def secret_key_id(self, value: str, index: int = 0) -> str:
        tenant_id, client_id = self.app(index)
        app = self.emulator.world.tenants[tenant_id].apps[client_id]
        return next(s.key_id for s in app.secrets if s.value == value)


@pytest.fixture
def fleet(make_emulator: EmulatorFactory, sqlite_url: str) -> Iterator[Fleet]:
    emulator = make_emulator(tenants=2, users=5, scenario="msp", seed=21)
    engine = make_engine(sqlite_url)
    keyring, _ = new_keyring()
    tenants = onboard(engine, emulator, keyring)
    ensure_schedules(engine)
    http = SharedHttp(1)
    options = SyncOptions(keyring=keyring, http=http)
    try:
        yield Fleet(emulator, engine, TenantService(engine, keyring), http, options, tenants)
    finally:
        http.close()
        engine.dispose()


def test_each_tenant_keeps_its_own_app_across_syncs(fleet: Fleet) -> None:
    for _ in range(2):
        assert fleet.sync("t00").outcome == Outcome.COMPLETED
        assert fleet.sync("t01").outcome == Outcome.COMPLETED
    # Two tenants, two apps (never one for both), each built once and reused once.
    assert (fleet.http.tokens.built, fleet.http.tokens.reused, len(fleet.http.tokens)) == (2, 2, 2)


def test_a_rotated_secret_is_used_by_the_next_sync_and_the_revoked_one_fails(
    fleet: Fleet,
) -> None:
    old = fleet.emulator.info["tenants"][0]["client_secret"]
    assert fleet.sync("t00").outcome == Outcome.COMPLETED
    new = fleet.add_secret()
    fleet.set_secret("t00", new)
    fleet.revoke_secret(fleet.secret_key_id(old))
    # Same process, same tenant: the next sync signs in with the new secret (the old one is
    # revoked, so a kept app or token of the old credential would fail or be a leak).
    rotated = fleet.sync("t00")
    assert rotated.outcome == Outcome.COMPLETED, rotated.result
    assert fleet.http.tokens.built == 2
    assert fleet.sync("t00").outcome == Outcome.COMPLETED
    assert fleet.http.tokens.reused == 1
    # Back to the revoked secret in the database: Entra's answer, with its fix, not a kept token.
    fleet.set_secret("t00", old)
    failed = fleet.sync("t00")
    assert failed.outcome == Outcome.FAILED
    assert failed.result is not None
    assert failed.result.error_kind == "AuthError:expired_secret"
    assert "AADSTS7000222" in (failed.result.error_message or "")
    assert "Fix:" in (failed.result.error_message or "")
    assert old not in (failed.result.error_message or "")
    assert new not in repr(failed.result)


def test_a_failed_sign_in_is_not_kept_and_gives_the_same_error_again(fleet: Fleet) -> None:
    assert fleet.sync("t01").outcome == Outcome.COMPLETED
    fleet.set_secret("t01", WRONG_SECRET)
    errors = []
    for _ in range(2):
        outcome = fleet.sync("t01")
        assert outcome.outcome == Outcome.FAILED
        assert outcome.result is not None
        errors.append((outcome.result.error_kind, outcome.result.error_message))
    assert errors[0] == errors[1]
    assert errors[0][0] == "AuthError:wrong_secret"
    assert "AADSTS7000215" in (errors[0][1] or "")
    # One app for the good secret, one per failed attempt: MSAL's cached answer never replays.
    assert fleet.http.tokens.built == 3
    fleet.set_secret("t01", fleet.emulator.info["tenants"][1]["client_secret"])
    assert fleet.sync("t01").outcome == Outcome.COMPLETED


def test_every_sync_asks_for_a_new_token_so_consent_counts_at_once(fleet: Fleet) -> None:
    tenant_id, client_id = fleet.app(0)
    roles = set(fleet.emulator.world.tenants[tenant_id].apps[client_id].roles)
    revoke_consent(fleet.emulator, 0)
    refused = fleet.sync("t00")
    assert refused.outcome == Outcome.FAILED
    assert refused.result is not None
    assert refused.result.error_kind == "ConsentMissing"
    fleet.emulator.world.tenants[tenant_id].apps[client_id].roles.update(roles)
    # The app is kept (its sign-in worked), its role-less token is not.
    assert fleet.sync("t00").outcome == Outcome.COMPLETED
    assert (fleet.http.tokens.built, fleet.http.tokens.reused) == (1, 1)
