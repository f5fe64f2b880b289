"""Apply an approved change plan line by line (resumable), then confirm it with a delta sync."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine, select

from licensewatch.domain.plans import (
    FINAL_STATES,
    WRITE_ROLE,
    WRITE_ROLES,
    LineState,
    PlanRefused,
    PlanStatus,
)
from licensewatch.graph.client import GraphClient
from licensewatch.graph.connection import GraphConnection
from licensewatch.security.crypto import Keyring
from licensewatch.services import audit
from licensewatch.services.plan_views import PlanView, show_plan
from licensewatch.services.plans import Actor
from licensewatch.services.tenants import TenantService
from licensewatch.storage.database import session_scope
from licensewatch.storage.models import Group, Tenant
from licensewatch.storage.models.base import utcnow
from licensewatch.storage.models.plans import ChangePlan, ChangePlanLine
from licensewatch.sync import plan_lease
from licensewatch.sync.plan_confirm import confirm_lines
from licensewatch.sync.plan_line import ENTRA_STEPS, send_line
from licensewatch.sync.runner import SyncAlreadyRunning, run_sync
from licensewatch.sync.work import OnPublish

log = logging.getLogger(__name__)
ClientFactory = Callable[[GraphConnection], GraphClient]


@dataclass(frozen=True, slots=True)
class ApplyReport:
    plan: PlanView
    stopped: str | None  # why lines are left pending (None: every line reached a final state)
    confirmed_by_sync: int | None  # the delta run that checked the lines


def writes_missing(tenant_name: str, allowed: bool) -> str | None:
    """Why this tenant may not be written to (None: it may)."""
    if allowed:
        return None
    return (
        f"licence writes are off for tenant {tenant_name!r}: an administrator turns them on with "
        f"`licensewatch tenant update {tenant_name} --allow-writes` (the app also needs the "
        f"application permission {WRITE_ROLE})"
    )


def _start(engine: Engine, plan_id: int, actor: Actor) -> tuple[int, str]:
    with session_scope(engine) as session:
        plan = session.get(ChangePlan, plan_id)
        if plan is None:
            raise PlanRefused(f"no change plan {plan_id}: see `licensewatch plan list`")
        tenant = session.get_one(Tenant, plan.tenant_id)
        if plan.status == PlanStatus.DRAFT:
            raise PlanRefused(f"plan {plan_id} is a draft: an administrator approves it first")
        missing = writes_missing(tenant.name, tenant.allow_writes)
        if missing:
            raise PlanRefused(missing)
        if plan.status == PlanStatus.APPROVED:
            plan.status, plan.applied_by, plan.applied_at = (
                PlanStatus.APPLYING,
                actor.name,
                utcnow(),
            )
        return tenant.id, tenant.name


def _group_names(engine: Engine, tenant_pk: int) -> dict[str, str]:
    with session_scope(engine, write=False) as session:
        rows = session.execute(
            select(Group.id, Group.display_name).where(Group.tenant_id == tenant_pk)
        )
        return {gid.lower(): name or gid for gid, name in rows}


def _finish(engine: Engine, plan_id: int) -> bool:
    with session_scope(engine) as session:
        plan = session.get_one(ChangePlan, plan_id)
        states = session.scalars(
            select(ChangePlanLine.state).where(ChangePlanLine.plan_id == plan_id)
        ).all()
        if all(s in FINAL_STATES for s in states):
            plan.status = PlanStatus.APPLIED
            plan.finished_at = plan.finished_at or utcnow()
            return True
        return False


def _send_all(
    engine: Engine,
    plan_id: int,
    owner: str,
    connection: GraphConnection,
    tenant_pk: int,
    client_factory: ClientFactory | None,
) -> str | None:
    """Every pending or interrupted line, in order; why the batch stopped, or None."""
    groups = _group_names(engine, tenant_pk)
    with (client_factory or GraphClient)(connection) as client:
        roles = client.token().roles
        if not has_write_role(roles):
            return (
                f"the app's token lacks {WRITE_ROLE} (it has: {', '.join(sorted(roles)) or 'none'})"
                f". {ENTRA_STEPS}"
            )
        for line in show_plan(engine, plan_id).lines:
            if line.state not in (LineState.PENDING, LineState.SENDING):
                continue
            if not plan_lease.renew(engine, plan_id, owner):
                return "another `plan apply` took this plan over: it carries on"
            stopped = send_line(engine, client, line, groups)
            if stopped:
                return stopped
    return None


def has_write_role(roles: set[str] | frozenset[str] | list[str]) -> bool:
    return bool(WRITE_ROLES & set(roles))


def apply_plan(
    engine: Engine,
    plan_id: int,
    actor: Actor,
    *,
    client_factory: ClientFactory | None = None,
    confirm: bool = True,
    keyring: Keyring | None = None,
    on_publish: OnPublish | None = None,
) -> ApplyReport:
    """Send every pending line of an approved plan; a second run resumes where one stopped.

    Each line is written as `sending` before its call and `applied`/`failed` after it; a line
    left `sending` (a kill, a lost answer) is settled by reading the user's licences first, so
    nothing is applied twice and nothing is skipped. A refusal fails its line only; throttling
    beyond the retry budget or a missing permission stops the batch (lines stay pending).
    """
    owner = plan_lease.new_owner()
    try:
        plan_lease.acquire(engine, plan_id, owner)  # before any state change: one at a time
    except PlanRefused as refused:
        audit.record(engine, "plan.applied", actor.name, actor.address, "refused", str(refused))
        raise
    try:
        try:
            tenant_pk, tenant_name = _start(engine, plan_id, actor)
        except PlanRefused as refused:
            audit.record(engine, "plan.applied", actor.name, actor.address, "refused", str(refused))
            raise
        service = TenantService(engine, keyring)  # the caller's keyring (the web app's settings)
        connection = service.connection_for(tenant_name)
        stopped = _send_all(engine, plan_id, owner, connection, tenant_pk, client_factory)
        finished = _finish(engine, plan_id)
    finally:
        plan_lease.release(engine, plan_id, owner)
    outcome = "ok" if finished else "failed"
    detail = f"plan {plan_id} on tenant {tenant_name}" + (
        f": stopped: {stopped}" if stopped else ""
    )
    audit.record(engine, "plan.applied", actor.name, actor.address, outcome, detail)
    run_id = None
    if confirm and finished:
        try:
            result = run_sync(
                engine,
                tenant_pk,
                connection,
                mode="delta",
                client_factory=client_factory,
                on_publish=on_publish,  # the read models follow the confirmed changes
            )
        except SyncAlreadyRunning as busy:  # the daemon's sync: `plan apply` again confirms
            log.warning("plan %s is applied; not confirmed yet: %s", plan_id, busy)
        else:
            if result.ok:  # a delta, or the full sync it fell back to: either is complete
                confirm_lines(engine, plan_id, tenant_pk)
                run_id = result.run_id
            else:
                log.warning(
                    "plan %s is applied; the sync to confirm it failed: %s",
                    plan_id,
                    result.error_message,
                )
    return ApplyReport(show_plan(engine, plan_id), stopped, run_id)
