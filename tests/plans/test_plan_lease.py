"""One `plan apply` of a plan at a time; a dead holder on this host is taken over at once."""

from __future__ import annotations

import socket

import pytest
from sqlalchemy import Engine

from database_fixtures import add_tenant
from licensewatch.domain.plans import LineAction, LineSpec, PlanRefused
from licensewatch.services.audit import recent
from licensewatch.services.plans import Actor, NewLine, approve_plan, create_plan
from licensewatch.sync import plan_lease
from licensewatch.sync.plan_apply import apply_plan

E3 = "6fd2c87f-b296-42f0-b197-1e91e994b900"


def _plan(engine: Engine) -> int:
    add_tenant(engine, "contoso")
    line = NewLine("00000000-0000-0000-0000-000000000001", "a@contoso.com",
                   LineSpec(LineAction.REMOVE, E3))  # fmt: skip
    plan_id = create_plan(engine, "contoso", [line], Actor("alice"))
    approve_plan(engine, plan_id, Actor("alice"))
    return plan_id


def test_a_live_holder_refuses_a_second_apply(engine: Engine) -> None:
    plan_id = _plan(engine)
    plan_lease.acquire(engine, plan_id, "elsewhere.example:4242:abcd")  # another machine
    with pytest.raises(PlanRefused, match="being applied by another process"):
        apply_plan(engine, plan_id, Actor("bob"))
    refused = [e for e in recent(engine) if e.action == "plan.applied"]
    assert [e.outcome for e in refused] == ["refused"]
    assert not plan_lease.renew(engine, plan_id, "someone-else")
    assert plan_lease.renew(engine, plan_id, "elsewhere.example:4242:abcd")


def test_a_dead_holder_on_this_host_is_taken_over(engine: Engine) -> None:
    plan_id = _plan(engine)
    dead = f"{socket.gethostname()}:{2**22 + 17}:dead"  # above Linux's pid_max default
    plan_lease.acquire(engine, plan_id, dead)
    plan_lease.acquire(engine, plan_id, "mine")  # no refusal: its process is gone
    assert not plan_lease.renew(engine, plan_id, dead)
    plan_lease.release(engine, plan_id, "mine")
    # Writes are off for this tenant: refused after the lease, and the lease is released.
    with pytest.raises(PlanRefused, match="--allow-writes"):
        apply_plan(engine, plan_id, Actor("bob"))
    plan_lease.acquire(engine, plan_id, "elsewhere.example:1:x")  # free again
