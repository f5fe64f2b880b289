"""What a delta publish changed: the users it touched, for read models kept up to date per user."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

# The user attributes costs can be broken down by (columns of `users`, `CostAttribute`).
ATTRIBUTES = ("department", "country", "company_name", "cost_center", "usage_location", "job_title")
# More changed users than this: the read models are rebuilt (as fast, and a delta need not keep
# what each of them was).
MOST_FOLLOWED = 5000


@dataclass(frozen=True, slots=True)
class UserBefore:
    """A changed user as stored before the delta: its `ATTRIBUTES` and the products it held in
    an assigned state (Active, ActiveWithError)."""

    attributes: tuple[str | None, ...]
    skus: frozenset[str]


@dataclass(frozen=True, slots=True)
class ChangedUsers:
    """The users a delta publish replaced or removed, named by their userPrincipalName as stored
    before the delta and as written by it (None: a user without one), and the tenant's
    `updated_at` before this publish (the dataset the read models were last built for); their
    ids, and for those that existed before, what they were (`before`, by id).

    A publish passes None instead of this when it changed more than these users (a full sync, or
    a delta whose products, service plans or groups changed): the read models are then rebuilt.
    """

    principal_names: frozenset[str | None]
    previous_updated_at: datetime | None
    ids: frozenset[str] = frozenset()
    before: Mapping[str, UserBefore] = field(default_factory=dict)
