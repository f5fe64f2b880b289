"""Undo reverses applied lines within 30 days, once each, with the disabled plans they had."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, update

from database_fixtures import add_tenant
from licensewatch.domain.plans import LineAction, LineSpec, PlanRefused
from licensewatch.services.plans import Actor, NewLine, create_plan, show_plan, undo_plan
from licensewatch.storage.database import session_scope
from licensewatch.storage.models.base import utcnow
from licensewatch.storage.models.plans import ChangePlanLine

E3, E5 = "6fd2c87f-b296-42f0-b197-1e91e994b900", "c7df2760-2c81-4ef7-b578-5b5392b571df"
TEAMS = "57ff2da0-773e-42df-b2af-ffb7a2317929"


def _applied_plan(engine: Engine, days_ago: int) -> int:
    lines = [
        NewLine(f"00000000-0000-0000-0000-00000000000{n}", f"u{n}@contoso.com", spec)
        for n, spec in enumerate(
            (LineSpec(LineAction.REMOVE, E3), LineSpec(LineAction.SWAP, E5, E3)), 1
        )
    ]
    plan_id = create_plan(engine, "contoso", lines, Actor("alice"))
    with session_scope(engine) as session:
        session.execute(
            update(ChangePlanLine)
            .where(ChangePlanLine.plan_id == plan_id)
            .values(state="confirmed", applied_at=utcnow() - timedelta(days=days_ago),
                    prior_disabled_plans=TEAMS)
        )  # fmt: skip
    return plan_id


def test_undo_window_and_reverse_lines(engine: Engine) -> None:
    add_tenant(engine, "contoso")
    old = _applied_plan(engine, days_ago=31)
    with pytest.raises(PlanRefused, match="30 days"):
        undo_plan(engine, old, Actor("alice"))
    recent = _applied_plan(engine, days_ago=29)
    undo_id = undo_plan(engine, recent, Actor("bob"))
    undo = show_plan(engine, undo_id)
    assert undo.status == "approved"
    assert undo.reverses_plan_id == recent
    assert [(line.action, line.sku_id, line.target_sku_id, line.add_disabled_plans)
            for line in undo.lines] == [
        ("add", E3, None, [TEAMS]),  # the same SKU back with the same disabled plans
        ("swap", E3, E5, [TEAMS]),
    ]  # fmt: skip
    assert all(line.undone_by_plan_id == undo_id for line in show_plan(engine, recent).lines)
    with pytest.raises(PlanRefused, match="no applied line left"):
        undo_plan(engine, recent, Actor("bob"))  # once
