"""One `plan apply` of a plan at a time: a lease on the plan row, renewed before every line."""

from __future__ import annotations

import os
import socket
import uuid
from datetime import timedelta

from sqlalchemy import Engine, update

from licensewatch.domain.plans import PlanRefused
from licensewatch.storage.database import session_scope
from licensewatch.storage.models.base import utcnow
from licensewatch.storage.models.plans import ChangePlan

# A holder silent this long is gone (a line's call, retries included, takes far less).
STALE_AFTER = timedelta(minutes=10)


def new_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _gone(owner: str) -> bool:
    """True only when we know the holder is dead: a process of this host that no longer runs."""
    host, pid_text = [*owner.split(":"), "", ""][:2]
    if host != socket.gethostname() or not pid_text.isdigit() or int(pid_text) == os.getpid():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, under another user
        return False
    return False


def acquire(engine: Engine, plan_id: int, owner: str) -> None:
    """Take the plan's lease, or PlanRefused naming the process that holds it."""
    now = utcnow()
    with session_scope(engine) as session:
        plan = session.get(ChangePlan, plan_id, with_for_update=True)
        if plan is None:
            raise PlanRefused(f"no change plan {plan_id}: see `licensewatch plan list`")
        held = plan.apply_owner
        fresh = plan.apply_heartbeat_at is not None and now - plan.apply_heartbeat_at < STALE_AFTER
        if held and held != owner and fresh and not _gone(held):
            raise PlanRefused(
                f"plan {plan_id} is being applied by another process ({held}): wait for it to "
                f"finish (a stopped one is taken over after {STALE_AFTER.seconds // 60} minutes)"
            )
        plan.apply_owner, plan.apply_heartbeat_at = owner, now


def renew(engine: Engine, plan_id: int, owner: str) -> bool:
    """Refresh the heartbeat; False when the lease was taken over (stop sending)."""
    with session_scope(engine) as session:
        done = session.execute(
            update(ChangePlan)
            .where(ChangePlan.id == plan_id, ChangePlan.apply_owner == owner)
            .values(apply_heartbeat_at=utcnow())
        )
        return bool(done.rowcount)  # type: ignore[attr-defined]


def release(engine: Engine, plan_id: int, owner: str) -> None:
    with session_scope(engine) as session:
        session.execute(
            update(ChangePlan)
            .where(ChangePlan.id == plan_id, ChangePlan.apply_owner == owner)
            .values(apply_owner=None, apply_heartbeat_at=None)
        )
