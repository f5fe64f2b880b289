"""What the stored recommendations were computed from: the findings' inputs, and the usage data,
the holder exclusions and every setting, hashed (a reader computing another hash rebuilds).

Recommendations are computed as of the start of the UTC day (`fingerprint.as_of`), like the dated
findings: the first reader of a new day rebuilds them.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from licensewatch.intelligence.exclusions import excluded_ids
from licensewatch.intelligence.read_models.fingerprint import Inputs
from licensewatch.intelligence.recommendations.facts import load_facts, usage_basis
from licensewatch.intelligence.settings import read_settings
from licensewatch.storage.models import Tenant
from licensewatch.storage.models.usage import RecommendationExclusion, UsageCollection

# Bumped when the rules change what they store: every stored recommendation is then stale.
VERSION = 2  # 2: positions with room between rows, groups count currencies, facts digest


def _digest(parts: list[Any]) -> str:
    # The same encoding as the findings' fingerprints (`fingerprint._digest`).
    text = json.dumps(parts, separators=(",", ":"), default=str, ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


def usage_identity(session: Session, tenant: Tenant) -> tuple[Any, ...] | None:
    """The collection the usage rows come from: a success stamps `collected_at`, a failure
    keeps it (and its rows): so a failed collection leaves the stored model as it was."""
    row = session.get(UsageCollection, tenant.id)
    if row is None:
        return None
    return (
        usage_basis(row),
        row.collected_at,
        row.period,
        row.concealed,
        row.active_refresh_date,
        row.apps_refresh_date,
        row.mailbox_refresh_date,
    )


def recommendations_fingerprint(session: Session, tenant: Tenant, inputs: Inputs) -> str:
    """The hash of every input of the tenant's recommendations as stored now."""
    holders = session.execute(
        select(RecommendationExclusion.kind, RecommendationExclusion.key).order_by(
            RecommendationExclusion.kind, RecommendationExclusion.key
        )
    ).all()
    parts: list[Any] = [VERSION, "recommendations", inputs.data, inputs.names, inputs.prices]
    parts += [inputs.excluded, [tuple(h) for h in holders], sorted(inputs.settings.items())]
    return _digest([*parts, usage_identity(session, tenant), inputs.day])


def facts_digest(session: Session, tenant: Tenant, now: datetime) -> str:
    """The hash of what every user's rules read besides the user (`rules.py`): the products with
    their per-user plans and whether they can be bought (subscriptions, prepaid units), the
    groups, the usage state and the settings and exclusions the rules apply. A delta whose
    publish leaves it equal changes nobody's recommendations but its changed users'."""
    facts = load_facts(session, tenant, now, only=())
    skus = [
        (s.sku_id, s.part_number, sorted(s.plan_names.items()), s.purchasable)
        for s in sorted(facts.skus.values(), key=lambda s: s.sku_id)
    ]
    parts: list[Any] = [VERSION, skus, sorted(facts.groups.items()), facts.period.value]
    parts += [facts.usage_status, facts.concealed, facts.refresh, facts.sign_in_data]
    parts += [
        read_settings(session)["disabled_days"],
        sorted(excluded_ids(session, for_alerts=False)),
    ]
    return _digest([*parts, facts.now])
