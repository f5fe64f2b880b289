"""assignLicense through the real client over TLS: only throttling is retried; an unknown outcome
is flagged `uncertain`, never re-sent; refusals keep Graph's request-id."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulator_fixtures import EmulatorFactory
from licensewatch.emulator import mutations
from licensewatch.emulator.options import EmulatorOptions
from licensewatch.graph.errors import GraphError, GraphUnavailableError
from licensewatch.graph.licence_writes import assign_license, read_holdings
from reliability_support import Rig, client_factory, start_rig

STANDARD = "O365_BUSINESS_PREMIUM"
WRITER = "LicenseAssignment.ReadWrite.All"


@pytest.fixture
def rig(make_emulator: EmulatorFactory, tmp_path: Path) -> Rig:
    built = start_rig(
        make_emulator, tmp_path, users=20, seed=11, scenario="small-office",
        options=EmulatorOptions(),
    )  # fmt: skip
    mutations.grant_consent(built.tenant, [WRITER])
    return built


def _holder(rig: Rig) -> tuple[str, str]:
    sku = mutations.resolve_sku(rig.tenant, STANDARD).sku_id
    for _, user in rig.tenant.iter_users_from(0):
        if any(a.sku_id == sku and a.assigned_by_group is None for a in user.assignments):
            return user.id, sku
    raise AssertionError("no holder")


def _removal(sku: str) -> dict[str, object]:
    return {"addLicenses": [], "removeLicenses": [sku]}


def test_throttled_writes_are_retried_after_retry_after(rig: Rig) -> None:
    user, sku = _holder(rig)
    rig.injector.configure(f"429=0.05@/v1.0/users/{user}/assignLicense#2")
    with client_factory()(rig.connection()) as client:
        result = assign_license(client, user, _removal(sku))
        assert client.stats.throttled == 2
    assert result.request_id
    assert sku not in {h.sku_id for h in result.holdings}
    assert rig.tenant.licence_writes == {user: 1}


@pytest.mark.parametrize("fault", ["503", "reset"])
def test_an_unknown_outcome_is_flagged_and_not_resent(rig: Rig, fault: str) -> None:
    user, sku = _holder(rig)
    rig.injector.configure(f"{fault}@/v1.0/users/{user}/assignLicense#1")
    with client_factory()(rig.connection()) as client:
        with pytest.raises(GraphError) as caught:
            assign_license(client, user, _removal(sku))
        assert isinstance(caught.value, GraphUnavailableError) or caught.value.status == 503
        assert caught.value.uncertain
        assert client.stats.requests == 1  # sent once, never again
        held = read_holdings(client, user)
    # The reset came after the emulator changed the user; a 503 before it: read, never guess.
    changed = sku not in {h.sku_id for h in held if h.group is None}
    assert changed == (fault == "reset")


def test_a_refusal_carries_graphs_message_and_request_id(rig: Rig) -> None:
    user, sku = _holder(rig)
    with client_factory()(rig.connection()) as client:
        assign_license(client, user, _removal(sku))
        with pytest.raises(GraphError) as caught:
            assign_license(client, user, _removal(sku))
    assert caught.value.status == 400
    assert caught.value.message == "User does not have a corresponding license."
    assert caught.value.request_id
    assert not caught.value.uncertain
