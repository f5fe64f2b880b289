"""After a delta: the user rules' stored rows of the changed users only, recomputed in place.

A user rule lists one row per userPrincipalName, in that order, each computed from that user's
licences alone (plus tenant-level inputs: product names, plans, groups, prices, exclusions,
settings, the day). When none of those changed since the stored build, the rows of the other
users stay true: the rows under the changed users' old and new names are deleted, those users
are computed again and inserted, and the summary follows (count by difference, money summed
again from the rows in order, so it is the very Decimal a full build adds up). Everything else
(product rules, costs, and any rule whose stored build is not the previous dataset's) is left to
the full build.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, select, update
from sqlalchemy.orm import Session

from licensewatch.domain.changed_users import ChangedUsers
from licensewatch.intelligence.findings import findings_in_session
from licensewatch.intelligence.findings.base import Finding, FindingRule
from licensewatch.intelligence.read_models.codec import cost_sum, cost_text
from licensewatch.intelligence.read_models.findings_store import (
    ROW_COLUMNS,
    ROWS,
    SUMMARIES,
    USER_RULES,
    row_tuples,
    summaries,
)
from licensewatch.intelligence.read_models.fingerprint import as_of, load_inputs
from licensewatch.storage.models import Tenant, utcnow
from licensewatch.storage.models.read_models import FindingSummary
from licensewatch.storage.writers import bulk_insert

# More changed names than this: a full build costs about as much, in one statement per rule
# instead of long IN lists (and SQLite's bound-parameter limit stays far away).
MAX_CHANGED = 5000
_CHUNK = 500


def update_changed_users(
    session: Session, tenant: Tenant, now: datetime, changed: ChangedUsers
) -> list[FindingRule]:
    """Update in place every user rule stored for the previous dataset; returns the rules left
    for a full build (in their order)."""
    everything = list(FindingRule)
    if len(changed.principal_names) > MAX_CHANGED:
        return everything
    inputs = load_inputs(session, tenant, now)
    # The fingerprint a rule stored for the previous dataset and today's other inputs: equal
    # only when nothing but the changed users differs from what its rows were computed from.
    previous = replace(inputs, data=(*inputs.data[:-1], changed.previous_updated_at))
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
        connection = session.connection()
        values: dict[FindingRule, dict[str, Any]] = {}
        for finding in found:
            if finding.unavailable is not None:  # (not for a rule stored as available)
                follow.pop(finding.rule)
                continue
            values[finding.rule] = _replace(connection, follow[finding.rule], finding, keys)
        common = {"dataset_id": tenant.dataset_id, "computed_at": utcnow(), "unavailable": None}
        common["build_ms"] = int((time.perf_counter() - started) * 1000)
        for rule, changes in values.items():
            connection.execute(
                update(SUMMARIES)
                .where(SUMMARIES.c.tenant_id == tenant.id, SUMMARIES.c.rule == rule.value)
                .values(fingerprint=inputs.finding(rule), **common, **changes)
            )
        session.expire_all()  # the summaries were changed underneath the loaded objects
    return [rule for rule in everything if rule not in follow]


def _chunks(keys: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(keys), _CHUNK):
        yield keys[start : start + _CHUNK]


def _replace(
    connection: Connection, summary: FindingSummary, finding: Finding, keys: list[str]
) -> dict[str, Any]:
    """The rows under these keys replaced by the changed users' rows now; returns the summary's
    new values: counts by difference, the money summed again from every row in key order."""
    mine = (ROWS.c.tenant_id == summary.tenant_id) & (ROWS.c.rule == summary.rule)
    removed = 0
    for chunk in _chunks(keys):
        removed += connection.execute(delete(ROWS).where(mine, ROWS.c.key.in_(chunk))).rowcount
    last = connection.scalar(select(func.max(ROWS.c.position)).where(mine))
    first = 0 if last is None else last + 1  # positions only identify the rows of a user rule
    rows = row_tuples(summary.tenant_id, finding.rule, finding.affected, first)
    bulk_insert(connection, ROWS, ROW_COLUMNS, rows)
    added = len(finding.affected)
    cost = None
    if finding.cost is not None:
        # Not old total - removed + added: a full build adds its rows up in key order, and
        # Decimal sums of non-terminating monthly prices round, so only that order is exact.
        texts = connection.scalars(select(ROWS.c.cost).where(mine).order_by(ROWS.c.key))
        cost = cost_text(cost_sum(texts))
    return {
        "title": finding.title,
        "subject": finding.subject,
        "fix": finding.fix,
        "count": summary.count - removed + added,
        "rows": summary.rows - removed + added,
        "cost": cost,
    }
