"""Change plan rules: assignLicense bodies, done and untouched, refusals, reverse, plan mapping."""

from __future__ import annotations

import pytest

from licensewatch.domain.plans import (
    Holding,
    LineAction,
    LineSpec,
    map_disabled_plans,
    refusal,
    reverse,
)

A, B = "aaaaaaaa-0000-4000-8000-000000000001", "bbbbbbbb-0000-4000-8000-000000000002"
TEAMS_A, TEAMS_B, MAIL_A = "t-a", "t-b", "m-a"
GROUP = "99999999-0000-4000-8000-000000000009"


def test_bodies_always_carry_both_lists() -> None:
    assert LineSpec(LineAction.REMOVE, A).assign_body() == {
        "addLicenses": [],
        "removeLicenses": [A],
    }
    swap = LineSpec(LineAction.SWAP, A, B, (TEAMS_B,))
    assert swap.assign_body() == {
        "addLicenses": [{"skuId": B, "disabledPlans": [TEAMS_B]}],
        "removeLicenses": [A],
    }
    add = LineSpec(LineAction.ADD, A, None, (MAIL_A, TEAMS_A))
    assert add.assign_body()["addLicenses"] == [{"skuId": A, "disabledPlans": [MAIL_A, TEAMS_A]}]
    with pytest.raises(ValueError, match="only a swap"):
        LineSpec(LineAction.REMOVE, A, B)


def test_done_and_untouched_look_at_direct_licences_only() -> None:
    swap = LineSpec(LineAction.SWAP, A, B)
    before = [Holding(A, None)]
    after = [Holding(B, None), Holding(A, GROUP)]  # the group's copy of A does not count
    assert swap.untouched(before)
    assert not swap.done(before)
    assert swap.done(after)
    assert not swap.untouched(after)
    assert not swap.done([Holding(A, None), Holding(B, None)])  # half way: neither
    assert not swap.untouched([Holding(A, None), Holding(B, None)])


def test_group_licences_are_refused_with_the_group_named() -> None:
    inherited = [Holding(A, GROUP)]
    why = refusal(LineSpec(LineAction.REMOVE, A), inherited, {GROUP: "Sales"})
    assert why is not None
    assert "group 'Sales'" in why
    assert refusal(LineSpec(LineAction.REMOVE, A), [], {}) == (
        "the user no longer holds this SKU directly"
    )
    duplicate = LineSpec(LineAction.REMOVE_DUPLICATE, A)
    assert refusal(duplicate, [Holding(A, None), Holding(A, GROUP)], {}) is None
    lone = refusal(duplicate, [Holding(A, None)], {})
    assert lone is not None
    assert "no group hands this SKU" in lone


def test_reverse_restores_the_same_sku_and_disabled_plans() -> None:
    assert reverse(LineSpec(LineAction.REMOVE, A), (TEAMS_A,)) == LineSpec(
        LineAction.ADD, A, None, (TEAMS_A,)
    )
    assert reverse(LineSpec(LineAction.SWAP, A, B, (TEAMS_B,)), (TEAMS_A,)) == LineSpec(
        LineAction.SWAP, B, A, (TEAMS_A,)
    )
    assert reverse(LineSpec(LineAction.ADD, A), ()) == LineSpec(LineAction.REMOVE, A)


def test_disabled_plans_carry_over_by_service_plan_name() -> None:
    source = {TEAMS_A: "TEAMS1", MAIL_A: "EXCHANGE_S_ENTERPRISE"}
    target = {TEAMS_B: "TEAMS1", "m-b": "EXCHANGE_S_STANDARD"}
    assert map_disabled_plans([TEAMS_A, MAIL_A], source, target) == (TEAMS_B,)
    assert map_disabled_plans(["same"], {}, {"same": "X"}) == ("same",)
