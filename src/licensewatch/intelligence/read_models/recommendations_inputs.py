"""What the stored recommendations were computed from: the findings' inputs, and the usage data,
the holder exclusions and every setting, hashed (a reader computing another hash rebuilds).

Recommendations are computed as of the start of the UTC day (`fingerprint.as_of`), like the dated
findings: the first reader of a new day rebuilds them.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from licensewatch.intelligence.read_models.fingerprint import Inputs
from licensewatch.intelligence.recommendations.facts import usage_basis
from licensewatch.storage.models import Tenant
from licensewatch.storage.models.usage import RecommendationExclusion, UsageCollection

# Bumped when the rules change what they store: every stored recommendation is then stale.
VERSION = 1


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
