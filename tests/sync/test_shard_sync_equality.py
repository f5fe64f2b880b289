"""Shard-parallel full syncs store exactly what sequential ones do; repeat syncs split evenly."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine

from emulator_fixtures import EmulatorFactory
from licensewatch.emulator.graph.query import parse_filter
from licensewatch.emulator.graph.serialize import USER_SPEC
from licensewatch.emulator.mutations import hire
from licensewatch.storage.database import make_engine, read_transaction
from licensewatch.storage.queries import upn_share_starts
from licensewatch.sync.runner import run_sync
from licensewatch.sync.shards import boundaries_from_sample, shard_filters
from reliability_support import Rig, client_factory, register, snapshot, start_rig, truth

# UPN local parts real tenants have and a naive range split gets wrong.
ODD_LOCALS = (
    "0.zero", "9lives", "365admin", "_svc.backup", "__double", "émile.zola", "Élodie", "ørjan",
    "åsa", "łucja", "ßtraße", "zoë", "李雷", "ZED.UPPER", "zz", "a", "m",
)  # fmt: skip
GUESTS = ("ann@contoso.com", "Zed@Fabrikam.com", "émile@partner.example", "9@gmail.com")


def _rig(make_emulator: EmulatorFactory, tmp_path: Path, seed: int) -> Rig:
    rig = start_rig(make_emulator, tmp_path, users=900, seed=seed, scenario="messy")
    for local in ODD_LOCALS:
        upn = f"{local}@{rig.tenant.domain}"
        if rig.tenant.user(upn) is None:  # every tenant starts with some such accounts
            hire(rig.tenant, {"userPrincipalName": upn, "displayName": local})
    for mail in GUESTS:  # the emulator gives guests the #EXT# form of their address
        hire(rig.tenant, {"mail": mail, "userType": "Guest", "displayName": mail})
    return rig


def _engine(tmp_path: Path, name: str) -> Engine:
    return make_engine(f"sqlite:///{tmp_path / name}.sqlite")


# processes=2: the shards are read, built and stored by shard processes (sync/shard_processes.py).
@pytest.mark.parametrize(("seed", "processes"), [(1, 1), (2, 1), (3, 1), (1, 2)])
def test_sharded_and_sequential_syncs_store_identical_data(
    make_emulator: EmulatorFactory, tmp_path: Path, seed: int, processes: int
) -> None:
    rig = _rig(make_emulator, tmp_path, seed)
    upns = [u.user_principal_name for _, u in rig.tenant.iter_users_from(0)]
    assert sum("#EXT#" in upn for upn in upns) >= len(GUESTS)
    expected = truth(rig.tenant)
    sequential_db, sharded_db = _engine(tmp_path, "sequential"), _engine(tmp_path, "sharded")
    try:
        pks = {db: register(db, rig.tenant) for db in (sequential_db, sharded_db)}

        def sync(engine: Engine, shards: int) -> None:
            result = run_sync(
                engine, pks[engine], rig.connection(), client_factory=client_factory(),
                shards=shards, shard_processes=processes,
            )  # fmt: skip
            assert result.ok, result.error_message

        sync(sequential_db, 1)
        sequential = snapshot(sequential_db, pks[sequential_db])
        assert (sequential.numbers, sequential.licences) == (expected.numbers, expected.licences)
        sync(sharded_db, 8)  # split by the default initial-letter weights
        first = snapshot(sharded_db, pks[sharded_db])
        sync(sharded_db, 8)  # split where the users the first sync stored split evenly
        repeat = snapshot(sharded_db, pks[sharded_db])
        for sharded in (first, repeat):
            assert (sharded.numbers, sharded.licences) == (sequential.numbers, sequential.licences)
    finally:
        sequential_db.dispose()
        sharded_db.dispose()


def test_repeat_syncs_split_the_tenant_into_even_ranges(
    make_emulator: EmulatorFactory, tmp_path: Path
) -> None:
    rig = _rig(make_emulator, tmp_path, seed=4)
    engine = _engine(tmp_path, "balance")
    tenant_pk = register(engine, rig.tenant)
    assert run_sync(engine, tenant_pk, rig.connection(), client_factory=client_factory()).ok
    with read_transaction(engine) as connection:
        boundaries = boundaries_from_sample(upn_share_starts(connection, tenant_pk, 8))
    engine.dispose()
    filters = shard_filters(8, boundaries)
    predicates = [parse_filter(text, USER_SPEC)[0] for text in filters]
    users = [u for _, u in rig.tenant.iter_users_from(0)]
    shares = Counter(next(i for i, p in enumerate(predicates) if p(u)) for u in users)
    fair = len(users) / len(filters)
    assert len(filters) >= 6, boundaries
    assert max(shares.values()) <= 1.5 * fair, (shares, boundaries)


def test_boundaries_are_safe_prefixes_of_the_sample() -> None:
    sample = ["Anna.b@x", None, "anna.c@x", "émile@x", "_svc@x", "bob.smith7@x", "Zed.Q@x"]
    assert boundaries_from_sample(sample) == ["anna", "bob", "zed"]
    with pytest.raises(ValueError, match="increasing"):
        shard_filters(4, ["b", "a"])
    with pytest.raises(ValueError, match="fewer than 2"):
        shard_filters(2, ["a", "b"])


@given(
    sample=st.lists(st.text(min_size=1, max_size=10), min_size=1, max_size=12),
    local=st.text(max_size=12),
    domain=st.text(min_size=1, max_size=6),
)
def test_every_upn_falls_in_exactly_one_range_of_a_sampled_split(
    sample: list[str], local: str, domain: str
) -> None:
    boundaries = boundaries_from_sample(sorted(f"{s}@x" for s in sample))
    if not boundaries:
        return
    filters = shard_filters(len(boundaries) + 1, boundaries)
    upn = f"{local}@{domain}"
    matches = [i for i, text in enumerate(filters) if parse_filter(text, USER_SPEC)[0](_User(upn))]
    assert len(matches) == 1, (upn, filters)


class _User:
    def __init__(self, upn: str) -> None:
        self.user_principal_name = upn
