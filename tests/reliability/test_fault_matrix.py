"""Graph fault matrix over TLS: retries within budget complete, the rest fail clean, recover."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine

from emulator_fixtures import EmulatorFactory
from licensewatch.graph.connection import GraphConnection
from licensewatch.storage.models import SyncStatus
from licensewatch.sync import full
from licensewatch.sync.runner import SyncResult, run_sync
from reliability_support import (
    change_world,
    client_factory,
    dataset_row_counts,
    register,
    runs,
    same_data,
    snapshot,
    start_rig,
    truth,
)

USERS = "@/v1.0/users"


@dataclass(frozen=True)
class Case:
    spec: str
    failure: str | None  # None: retried within budget, the run completes
    timeout: float = 30.0


CASES = {
    "429-retry-after-within-budget": Case(f"429=0.05{USERS}#after=2#3", None),
    "429-no-retry-after-within-budget": Case(f"429-noretry{USERS}#after=2#3", None),
    "429-retry-after-storm": Case(f"429=0.05{USERS}#after=2", "GraphThrottledError"),
    "429-no-retry-after-storm": Case(f"429-noretry{USERS}#after=2", "GraphThrottledError"),
    "429-retry-after-beyond-wait-budget": Case(f"429=30{USERS}#after=2", "GraphThrottledError"),
    "503-within-budget": Case(f"503{USERS}#after=2#2", None),
    "503-storm": Case(f"503=0.05{USERS}#after=2", "GraphUnavailableError"),
    "504-within-budget": Case(f"504{USERS}#after=2#2", None),
    "504-storm": Case(f"504{USERS}#after=2", "GraphUnavailableError"),
    "reset-within-budget": Case(f"reset{USERS}#after=2#2", None),
    "truncate-once": Case(f"truncate{USERS}#after=2#1", None),
    "garble-once": Case(f"garble{USERS}#after=2#1", None),
    "garble-always": Case(f"garble{USERS}#after=2", "GraphProtocolError"),
    "slow-body-past-timeout-once": Case(f"slow=5{USERS}#after=2#1", None, timeout=0.5),
    "slow-body-past-timeout-always": Case(f"slow=5{USERS}#after=2", "GraphUnavailable", 0.5),
    "repeating-next-link": Case(f"repeat-nextlink{USERS}#after=1", "GraphProtocolError"),
    "token-endpoint-down": Case("token-down", "AuthError:service"),
    "token-endpoint-resets": Case("token-down=reset", "AuthError:network"),
}


def _run(engine: Engine, tenant_pk: int, connection: GraphConnection, case: Case) -> SyncResult:
    factory = client_factory(timeout=case.timeout)
    return run_sync(engine, tenant_pk, connection, client_factory=factory)


@pytest.mark.parametrize("name", list(CASES))
def test_graph_fault(
    make_emulator: EmulatorFactory,
    engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
) -> None:
    case = CASES[name]
    monkeypatch.setattr(full, "USER_PAGE_SIZE", 10)  # 60 users: six pages, faults hit mid-stream
    rig = start_rig(make_emulator, tmp_path, users=60, seed=11)
    tenant_pk = register(engine, rig.tenant)
    connection = rig.connection()
    first = _run(engine, tenant_pk, connection, Case("", None))
    assert first.ok, first.error_message
    before = snapshot(engine, tenant_pk)
    assert same_data(before, truth(rig.tenant))

    change_world(rig.tenant)
    rig.injector.configure(case.spec)
    result = _run(engine, tenant_pk, connection, case)
    record = runs(engine, tenant_pk)[-1]
    assert record.id == result.run_id
    if case.failure is None:
        assert result.ok, result.error_message
        assert result.retries >= 1  # the fault really fired and was retried
        assert same_data(snapshot(engine, tenant_pk), truth(rig.tenant))
        return

    assert result.status == SyncStatus.FAILED
    assert (result.error_kind or "").startswith(case.failure), result.error_kind
    assert record.status == SyncStatus.FAILED
    assert record.error_kind == result.error_kind
    assert record.error_message  # the cause, readable by an admin
    assert record.finished_at is not None
    after = snapshot(engine, tenant_pk)
    assert after == before  # last good data intact, same dataset
    assert dataset_row_counts(engine) == {first.run_id: len(before.users)}  # no half dataset

    rig.injector.configure("")
    recovered = _run(engine, tenant_pk, connection, Case("", None))
    assert recovered.ok, recovered.error_message
    assert same_data(snapshot(engine, tenant_pk), truth(rig.tenant))
    assert dataset_row_counts(engine) == {recovered.run_id: len(truth(rig.tenant).users)}
