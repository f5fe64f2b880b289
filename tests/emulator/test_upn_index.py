"""The emulator's userPrincipalName index pages exactly like a scan, also across changes."""

from __future__ import annotations

from pathlib import Path

import pytest

from licensewatch.emulator.graph import upn_index
from licensewatch.emulator.graph.paging import take_page
from licensewatch.emulator.graph.query import parse_filter
from licensewatch.emulator.graph.serialize import USER_SPEC
from licensewatch.emulator.mutations import delete, hire, update
from licensewatch.emulator.seed import build_world
from licensewatch.emulator.state import Tenant

FILTERS = (
    "userPrincipalName le 'f'",
    "userPrincipalName ge 'f' and userPrincipalName le 'mb'",
    "userPrincipalName ge 'MB'",
    "startswith(userPrincipalName,'a')",
)


def _tenant(tmp_path: Path) -> Tenant:
    world = build_world(tenants=1, users=400, seed=3, scenario="messy", cert_dir=tmp_path)
    return next(iter(world.tenants.values()))


def _pages(tenant: Tenant, text: str, top: int, *, indexed: bool) -> list[list[str]]:
    predicate = parse_filter(text, USER_SPEC)[0]
    start: int | None = 0
    pages: list[list[str]] = []
    while start is not None:
        if indexed:
            positions = upn_index.matches(tenant, text, predicate)
            users, start = upn_index.page(tenant, positions, start, top)
        else:
            users, start = take_page(tenant.iter_users_from(start), predicate, top)
        pages.append([u.id for u in users])
    return pages


@pytest.mark.parametrize("text", FILTERS)
@pytest.mark.parametrize("top", [1, 7, 100, 999])
def test_indexed_pages_equal_scanned_pages(tmp_path: Path, text: str, top: int) -> None:
    tenant = _tenant(tmp_path)
    assert upn_index.indexable(text)
    assert _pages(tenant, text, top, indexed=True) == _pages(tenant, text, top, indexed=False)


def test_changes_between_pages_are_seen(tmp_path: Path) -> None:
    tenant = _tenant(tmp_path)
    text = FILTERS[1]
    before = _pages(tenant, text, 50, indexed=True)
    victim = next(u for _, u in tenant.iter_users_from(0) if "f" <= u.user_principal_name < "m")
    delete(tenant, victim.id)
    hire(tenant, {"userPrincipalName": f"gina.new@{tenant.domain}", "displayName": "Gina"})
    moved = next(u for _, u in tenant.iter_users_from(0) if u.user_principal_name < "f")
    update(tenant, moved.id, {"userPrincipalName": f"kim.moved@{tenant.domain}"})
    after = _pages(tenant, text, 50, indexed=True)
    assert after != before
    assert after == _pages(tenant, text, 50, indexed=False)


def test_only_upn_filters_are_indexed() -> None:
    assert not upn_index.indexable("accountEnabled eq true")
    assert not upn_index.indexable("userPrincipalName ge 'a' and userType eq 'Guest'")
    assert upn_index.indexable("userPrincipalName ge 'and or userType'")  # words in literals
