"""Schemathesis against the REST API's OpenAPI spec (real HTTP): no input gives a 500."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error

from licensewatch.services.accounts import create_account, create_token
from licensewatch.services.tenants import SecretInput, TenantService, TenantSettings
from licensewatch.settings import Settings
from licensewatch.storage.database import make_engine
from licensewatch.storage.models.accounts import Role
from web_server import serve_in_thread


def _no_sync(*_args: object) -> None:
    """A sync launched through the API must not leave the machine (no emulator here)."""


def _spec() -> dict[str, Any]:
    """The app's OpenAPI document (built without a database: routes only)."""
    from licensewatch.web.app import create_app

    offline = make_engine("sqlite://", upgrade=False)
    spec: dict[str, Any] = create_app(Settings(), engine=offline, sync=_no_sync).openapi()
    offline.dispose()
    return spec


# Loaded at import: schemathesis' lazy `from_fixture` breaks on pytest 9 (Function._nodeid).
schema = schemathesis.openapi.from_dict(_spec())


@dataclass(frozen=True)
class Api:
    base: str
    token: str


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    from licensewatch.security.crypto import load_keyring
    from licensewatch.web.app import create_app

    home = tmp_path_factory.mktemp("fuzz")
    settings = Settings(home=home, database_url=f"sqlite:///{home / 'fuzz.db'}")
    engine = make_engine(settings.database_url)
    TenantService(engine, load_keyring(settings)).add(
        TenantSettings(
            name="contoso",
            tenant_id="contoso.onmicrosoft.com",
            client_id="4d856d1f-0000-4000-8000-000000000001",
            credential=SecretInput("abC8Q~FuzzSecretValue.0123456789_-xyzAB"),
        )
    )
    create_account(engine, "fuzzer", Role.ADMIN, "correct horse battery staple 42")
    token = create_token(engine, "fuzzer", "fuzz")
    with serve_in_thread(create_app(settings, engine=engine, sync=_no_sync)) as base:
        yield Api(base, token)
    engine.dispose()


@pytest.mark.slow
@schema.parametrize()
@hypothesis_settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
def test_api_never_answers_500(case: Any, api: Api) -> None:
    case.call_and_validate(
        base_url=api.base,
        headers={"Authorization": f"Bearer {api.token}"},
        checks=[not_a_server_error],
    )
