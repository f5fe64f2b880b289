"""What a delta publish changed: the users it touched, for read models kept up to date per user."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class ChangedUsers:
    """The users a delta publish replaced or removed, named by their userPrincipalName as stored
    before the delta and as written by it (None: a user without one), and the tenant's
    `updated_at` before this publish (the dataset the read models were last built for).

    A publish passes None instead of this when it changed more than these users (a full sync, or
    a delta whose products, service plans or groups changed): the read models are then rebuilt.
    """

    principal_names: frozenset[str | None]
    previous_updated_at: datetime | None
