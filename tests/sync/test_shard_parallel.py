"""Shard-parallel /users reads over TLS: the same users as the sequential read, each once."""

from __future__ import annotations

import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
from emulated_tenant import start
from hypothesis import example, given
from hypothesis import strategies as st

from emulator_fixtures import EmulatorFactory, connect
from licensewatch.emulator.graph.query import parse_filter
from licensewatch.emulator.graph.serialize import USER_SPEC
from licensewatch.emulator.mutations import hire
from licensewatch.emulator.seed import build_world
from licensewatch.emulator.server import RunningEmulator
from licensewatch.emulator.state import Tenant
from licensewatch.graph.client import GraphClient
from licensewatch.graph.errors import GraphError, GraphUnavailableError
from licensewatch.graph.retry import RetryPolicy
from licensewatch.sync.shards import MAX_SHARDS, ShardMismatch, iter_user_pages_sharded
from licensewatch.sync.shards import shard_filters as make_filters

PARAMS: dict[str, str | int] = {"$select": "id,userPrincipalName", "$top": 40}
ODD_LOCALS = (
    "0.zero", "9lives", "_underscore", "__double", "365", "~tilde", "-dash", "ZED.UPPER",
    "émile.zola", "Élodie.upper", "ørjan", "åsa", "łucja", "ßtraße", "zoë", "李雷", "zz", "zzz",
    "a", "A", "m", "Mmm",
)  # fmt: skip
GUEST_MAILS = ("ann@contoso.com", "Zed@Fabrikam.com", "émile@partner.example", "9@gmail.com")


def _shards_of(upn: str, filters: list[str]) -> list[int]:
    user = SimpleNamespace(user_principal_name=upn)
    return [i for i, text in enumerate(filters) if parse_filter(text, USER_SPEC)[0](user)]


@pytest.mark.parametrize("n", [2, 3, 8, 17, MAX_SHARDS])
def test_filters_are_ordered_ranges_with_at_free_boundaries(n: int) -> None:
    filters = make_filters(n)
    assert len(filters) == n
    assert filters[0].startswith("userPrincipalName le '")
    assert filters[-1].startswith("userPrincipalName ge '")
    bounds = [f.rsplit("'", 2)[1] for f in filters[:-1]]
    assert bounds == sorted(set(bounds)), "boundaries strictly increase"
    assert all("@" not in b and b == b.lower() for b in bounds)


@pytest.mark.parametrize("n", [0, 1, MAX_SHARDS + 1])
def test_filters_refuse_impossible_counts(n: int) -> None:
    with pytest.raises(ValueError, match="shards must be"):
        make_filters(n)


@given(local=st.text(min_size=0, max_size=12), domain=st.text(min_size=1, max_size=8))
@example(local="cl", domain="x")
@example(local="CL", domain="x")
@example(local="c", domain="")
@example(local="", domain="")
@example(local="bob_gmail.com#EXT#", domain="contoso.onmicrosoft.com")
@example(local="ß", domain="x")
def test_every_upn_falls_in_exactly_one_shard(local: str, domain: str) -> None:
    upn = f"{local}@{domain}"
    for n in (2, 8, 13):
        assert len(_shards_of(upn, make_filters(n))) == 1, upn


def _odd_users(tenant: Tenant, filters: list[str]) -> None:
    """UPNs at and around every boundary, digits, `_`, non-ASCII letters and #EXT# guests."""
    domain = tenant.domain
    bounds = [f.rsplit("'", 2)[1] for f in filters[:-1]]
    around = [v for b in bounds for v in (b, b.upper(), b[:-1] or "0", b + "a", b + "_")]
    for local in (*ODD_LOCALS, *around):
        upn = f"{local}@{domain}"
        if tenant.user(upn) is None:
            hire(tenant, {"userPrincipalName": upn, "displayName": local or "x"})
    for mail in GUEST_MAILS:
        hire(tenant, {"mail": mail, "userType": "Guest", "displayName": mail})


def _start(make_emulator: EmulatorFactory, seed: int, tmp_path: Path) -> tuple[Tenant, GraphClient]:
    world = build_world(tenants=1, users=700, seed=seed, scenario="messy", cert_dir=tmp_path)
    tenant = next(iter(world.tenants.values()))
    _odd_users(tenant, make_filters(8))
    emulator: RunningEmulator = make_emulator(world)
    return tenant, GraphClient(connect(emulator, tenant))


def _ids(pages: object) -> list[str]:
    return [item["id"] for page in pages for item in page.items]  # type: ignore[attr-defined]


@pytest.mark.parametrize(("seed", "shards"), [(1, 8), (2, 3), (3, 8), (4, 16)])
def test_sharded_read_equals_sequential_read(
    make_emulator: EmulatorFactory, tmp_path: Path, seed: int, shards: int
) -> None:
    tenant, client = _start(make_emulator, seed, tmp_path)
    with client:
        sequential = _ids(client.iter_pages("/users", PARAMS))
        pages = list(iter_user_pages_sharded(client, PARAMS, shards=shards, on_mismatch="raise"))
    sharded = _ids(pages)
    assert len(sharded) == len(set(sharded)), "no user twice"
    assert set(sharded) == set(sequential) == {u.id for _, u in tenant.iter_users_from(0)}
    assert [p.number for p in pages] == list(range(1, len(pages) + 1))
    assert len(pages) > shards, "several pages per shard: the nextLink chains were followed"
    upns = {u.user_principal_name for _, u in tenant.iter_users_from(0)}
    assert {"émile.zola", "李雷", "_underscore", "0.zero"} <= {u.split("@")[0] for u in upns}
    assert sum("#EXT#" in u for u in upns) >= len(GUEST_MAILS)


class _StaleCount(GraphClient):
    """/users/$count is eventually consistent in Graph; the emulator's is always exact."""

    lag = 1

    def count_users(self, filter: str | None = None) -> int:
        return super().count_users(filter) + self.lag


class _NoRangeFilters(GraphClient):
    """A directory that refuses advanced queries (the emulator always accepts them)."""

    def count_users(self, filter: str | None = None) -> int:
        raise GraphError("Unsupported Query.", status=400, code="Request_UnsupportedQuery")


def _client(cls: type[GraphClient], emulator: RunningEmulator, tenant: Tenant) -> GraphClient:
    return cls(connect(emulator, tenant))


def test_count_mismatch_falls_back_raises_or_warns_as_asked(
    make_emulator: EmulatorFactory, tmp_path: Path
) -> None:
    world = build_world(tenants=1, users=300, seed=5, scenario="messy", cert_dir=tmp_path)
    tenant = next(iter(world.tenants.values()))
    emulator = make_emulator(world)
    everyone = {u.id for _, u in tenant.iter_users_from(0)}
    with _client(_StaleCount, emulator, tenant) as client:
        fallback = list(iter_user_pages_sharded(client, PARAMS, shards=4))
        warned = list(iter_user_pages_sharded(client, PARAMS, shards=4, on_mismatch="warn"))
        with pytest.raises(ShardMismatch, match="/users/\\$count says"):
            list(iter_user_pages_sharded(client, PARAMS, shards=4, on_mismatch="raise"))
    assert set(_ids(fallback)) == set(_ids(warned)) == everyone
    assert len(fallback) == len(list(range(0, len(everyone), 40))), "sequential pages"
    assert len(warned) > len(fallback), "the shards' pages"
    with _client(_NoRangeFilters, emulator, tenant) as client:
        assert set(_ids(iter_user_pages_sharded(client, PARAMS, shards=4))) == everyone
        with pytest.raises(GraphError, match="Unsupported"):
            list(iter_user_pages_sharded(client, PARAMS, shards=4, on_mismatch="raise"))


def _shard_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("graph-shard-")]


def test_a_failing_shard_fails_the_read_and_stops_the_others(
    make_emulator: EmulatorFactory, tmp_path: Path
) -> None:
    emulator, injector = start(make_emulator, users=600, seed=6, cert_dir=tmp_path)
    tenant = next(iter(emulator.world.tenants.values()))
    no_retry = RetryPolicy(max_attempts=1, sync_budget=0.0, sleep=lambda _s: None)
    with GraphClient(connect(emulator, tenant), retry=no_retry) as client:
        injector.configure("503@/v1.0/users#nth=14#1")
        with pytest.raises(GraphUnavailableError):
            list(iter_user_pages_sharded(client, PARAMS, shards=4))
        injector.configure("")
        pages = iter_user_pages_sharded(client, PARAMS, shards=4)
        assert next(pages).items
        pages.close()  # an abandoned read stops its threads
    assert _shard_threads() == []


def test_one_shard_is_the_sequential_read_and_filters_are_refused(
    make_emulator: EmulatorFactory, tmp_path: Path
) -> None:
    _, client = _start(make_emulator, 7, tmp_path)
    with client:
        assert _ids(iter_user_pages_sharded(client, PARAMS, shards=1)) == _ids(
            client.iter_pages("/users", PARAMS)
        )
        with pytest.raises(ValueError, match="owns \\$filter"):
            next(iter_user_pages_sharded(client, {**PARAMS, "$filter": "accountEnabled eq true"}))
