"""After a delta: the user rules' stored rows of the changed users only, recomputed in place.

A user rule lists one row per userPrincipalName, in that order, each computed from that user's
licences alone (plus tenant-level inputs: product names, plans, groups, prices, exclusions,
settings, the day). When none of those changed since the stored build, the rows of the other
users stay true: the rows under the changed users' old and new names are deleted, those users
are computed again and inserted, and the summary follows (count by difference, money summed
by difference when that is exact, else again from the rows in order: `total.py`). Everything else
(product rules, and any rule whose stored build is not the previous dataset's) is left to the
full build; the costs follow the same users in `costs_delta.py`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, select, update
from sqlalchemy.orm import Session

from licensewatch.domain.changed_users import MOST_FOLLOWED, ChangedUsers
from licensewatch.intelligence.findings import findings_in_session
from licensewatch.intelligence.findings.base import Finding, FindingRule
from licensewatch.intelligence.money import Cost
from licensewatch.intelligence.prices import load_prices
from licensewatch.intelligence.read_models.codec import cost_text, cost_value
from licensewatch.intelligence.read_models.findings_store import (
    ROW_COLUMNS,
    ROWS,
    SUMMARIES,
    USER_RULES,
    row_tuples,
    summaries,
)
from licensewatch.intelligence.read_models.fingerprint import Inputs, as_of, load_inputs
from licensewatch.intelligence.read_models.total import exponents, new_total
from licensewatch.storage.models import Tenant, utcnow
from licensewatch.storage.models.read_models import FindingSummary
from licensewatch.storage.writers import bulk_insert

log = logging.getLogger(__name__)
# More changed names than this: a full build costs about as much, in one statement per rule
# instead of long IN lists (and SQLite's bound-parameter limit stays far away).
MAX_CHANGED = MOST_FOLLOWED
_CHUNK = 500


def both_inputs(
    session: Session, tenant: Tenant, now: datetime, changed: ChangedUsers
) -> tuple[Inputs, Inputs] | None:
    """The inputs now, and the same with the previous dataset (None: too many changed users).

    A read model stored with the second's fingerprint was computed from the previous dataset
    and today's other inputs: nothing but the changed users differs from what it describes.
    """
    if len(changed.principal_names) > MAX_CHANGED or len(changed.ids) > MAX_CHANGED:
        return None
    inputs = load_inputs(session, tenant, now)
    return inputs, replace(inputs, data=(*inputs.data[:-1], changed.previous_updated_at))


def update_changed_users(
    session: Session,
    tenant: Tenant,
    now: datetime,
    changed: ChangedUsers,
    inputs: Inputs,
    previous: Inputs,
) -> list[FindingRule]:
    """Update in place every user rule stored for the previous dataset; returns the rules left
    for a full build (in their order)."""
    everything = list(FindingRule)
    stored = summaries(session, tenant.id)
    follow = {
        rule: summary
        for rule, summary in stored.items()
        if rule in USER_RULES
        and summary.unavailable is None
        and summary.fingerprint == previous.finding(rule)
    }
    if follow:
        started = time.perf_counter()
        found = findings_in_session(
            session, tenant, now=as_of(now), rules=set(follow), only=changed.principal_names
        )
        keys = sorted({name or "" for name in changed.principal_names})
        steps = exponents(load_prices(session).values())
        connection = session.connection()
        values: dict[FindingRule, dict[str, Any]] = {}
        for finding in found:
            if finding.unavailable is not None:  # (not for a rule stored as available)
                follow.pop(finding.rule)
                continue
            summary = follow[finding.rule]
            values[finding.rule] = _replace(connection, summary, finding, keys, steps)
        common = {"dataset_id": tenant.dataset_id, "computed_at": utcnow(), "unavailable": None}
        common["build_ms"] = int((time.perf_counter() - started) * 1000)
        for rule, changes in values.items():
            connection.execute(
                update(SUMMARIES)
                .where(SUMMARIES.c.tenant_id == tenant.id, SUMMARIES.c.rule == rule.value)
                .values(fingerprint=inputs.finding(rule), **common, **changes)
            )
        session.expire_all()  # the summaries were changed underneath the loaded objects
        log.debug(
            "tenant %s: %d rules follow %d changed users in %d ms",
            *(tenant.id, len(values), len(changed.principal_names), common["build_ms"]),
        )
    return [rule for rule in everything if rule not in follow]


def _chunks(keys: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(keys), _CHUNK):
        yield keys[start : start + _CHUNK]


def _replace(
    connection: Connection,
    summary: FindingSummary,
    finding: Finding,
    keys: list[str],
    steps: dict[str, int] | None,
) -> dict[str, Any]:
    """The rows under these keys replaced by the changed users' rows now; returns the summary's
    new values: counts and money by difference (`total.py`)."""
    mine = (ROWS.c.tenant_id == summary.tenant_id) & (ROWS.c.rule == summary.rule)
    before: list[Cost] = []
    for chunk in _chunks(keys):
        under = (mine, ROWS.c.key.in_(chunk))
        before += map(cost_value, connection.scalars(select(ROWS.c.cost).where(*under)))
        connection.execute(delete(ROWS).where(*under))
    removed = len(before)
    last = connection.scalar(select(func.max(ROWS.c.position)).where(mine))
    first = 0 if last is None else last + 1  # positions only identify the rows of a user rule
    rows = row_tuples(summary.tenant_id, finding.rule, finding.affected, first)
    bulk_insert(connection, ROWS, ROW_COLUMNS, rows)
    added = len(finding.affected)
    cost = None
    if finding.cost is not None and summary.cost is not None:
        now = [a.cost for a in finding.affected]
        cost = cost_text(new_total(connection, mine, cost_value(summary.cost), before, now, steps))
    return {
        "title": finding.title,
        "subject": finding.subject,
        "fix": finding.fix,
        "count": summary.count - removed + added,
        "rows": summary.rows - removed + added,
        "cost": cost,
    }
