"""What a SKU's units mean, from Graph's fields: usable, grace, trial, lapsed and over-assigned.

subscribedSku.prepaidUnits gives the units by state (enabled, warning, suspended, lockedOut) and
directory/subscriptions tells which of them belong to free trials (isTrial) and when each
subscription moves to its next state (nextLifecycleDateTime). docs/intelligence.md explains each
number with the edge cases.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

# Subscription states whose units can be assigned (Warning: expired, in its grace period).
USABLE_STATUSES = ("Enabled", "Warning")
# Subscription states whose units cannot be assigned any more and are deleted on their next date.
LAPSED_STATUSES = ("Suspended", "LockedOut")
# capabilityStatus of a SKU with no usable unit left: its holders keep units that have lapsed.
LAPSED_CAPABILITIES = frozenset({"Suspended", "LockedOut", "Deleted"})


@dataclass(frozen=True, slots=True)
class SubscriptionTotal:
    """A SKU's subscriptions of one status and trial flag, summed (directory/subscriptions)."""

    status: str | None
    is_trial: bool
    units: int
    next_lifecycle_at: datetime | None  # the earliest of them


@dataclass(frozen=True, slots=True)
class Units:
    """The numbers every view shows for one SKU (before its section is taken into account)."""

    purchased: int  # usable units of paid subscriptions (Enabled + Warning)
    grace: int  # of `purchased`, those in Warning (expired, still assignable until renewed or not)
    trial: int  # usable units of free-trial subscriptions
    lapsed: int  # suspended + lockedOut units: cannot be assigned
    available: int  # purchased + trial - consumed (negative: more holders than usable units)
    unassigned: int  # paid units nobody holds (spare trial units are never counted here)
    lapsed_holders: int  # holders beyond the usable units whose units lapsed
    over_assigned: int  # holders beyond the usable and the lapsed units: seats to buy


def measure(
    *,
    enabled: int,
    warning: int,
    suspended: int,
    locked_out: int,
    consumed: int,
    capability_status: str | None,
    subscriptions: Iterable[SubscriptionTotal] = (),
) -> Units:
    """A SKU's numbers from prepaidUnits, consumedUnits, capabilityStatus and its subscriptions.

    prepaidUnits is the authority for the units; subscriptions only split trial from paid (capped
    at the prepaid units, so a list that disagrees can never invent units).
    """
    trial_enabled = trial_warning = 0
    for sub in subscriptions:
        if sub.is_trial and sub.status == "Enabled":
            trial_enabled += sub.units
        elif sub.is_trial and sub.status == "Warning":
            trial_warning += sub.units
    trial_enabled, trial_warning = min(trial_enabled, enabled), min(trial_warning, warning)
    usable = enabled + warning
    trial = trial_enabled + trial_warning
    purchased = usable - trial
    available = usable - consumed
    lapsed = suspended + locked_out
    shortfall = max(consumed - usable, 0)
    if capability_status in LAPSED_CAPABILITIES:
        # Nothing usable is left: every holder beyond the usable units holds a lapsed unit.
        lapsed_holders = shortfall
    else:
        # Units that expired while assigned stay assigned: those holders need a renewal first.
        lapsed_holders = min(shortfall, lapsed)
    return Units(
        purchased=purchased,
        grace=warning - trial_warning,
        trial=trial,
        lapsed=lapsed,
        available=available,
        # Holders use the paid units first, so spare units are trial ones first: a free trial
        # seat is never money wasted.
        unassigned=max(purchased - consumed, 0),
        lapsed_holders=lapsed_holders,
        over_assigned=shortfall - lapsed_holders,
    )


@dataclass(frozen=True, slots=True)
class Renewal:
    """When a SKU's paid units next renew (or leave grace), and when its trial units end."""

    next_renewal: datetime | None
    in_grace: bool  # next_renewal is the end of a Warning subscription's grace period
    trial_ends: datetime | None
    lapsed_until: datetime | None  # when the first Suspended or LockedOut subscription moves on


def renewal(subscriptions: Iterable[SubscriptionTotal]) -> Renewal:
    """The next renewal from Enabled and Warning paid subscriptions only.

    nextLifecycleDateTime of a Suspended, LockedOut or Deleted subscription is when it moves to its
    next state (deletion), not a renewal; a trial's is the end of the trial.
    """
    paid: list[tuple[datetime, bool]] = []
    trials: list[datetime] = []
    lapsing: list[datetime] = []
    for sub in subscriptions:
        if sub.status in LAPSED_STATUSES and sub.next_lifecycle_at is not None:
            lapsing.append(sub.next_lifecycle_at)
        if sub.status not in USABLE_STATUSES or sub.next_lifecycle_at is None or sub.units <= 0:
            continue
        if sub.is_trial:
            trials.append(sub.next_lifecycle_at)
        else:
            paid.append((sub.next_lifecycle_at, sub.status == "Warning"))
    first = min(paid, key=lambda item: (item[0], not item[1])) if paid else None
    return Renewal(
        next_renewal=first[0] if first else None,
        in_grace=bool(first and first[1]),
        trial_ends=min(trials) if trials else None,
        lapsed_until=min(lapsing) if lapsing else None,
    )


def lifecycle_event(status: str | None, is_trial: bool) -> str | None:
    """What a subscription's nextLifecycleDateTime means, given its status.

    Graph: "when the subscription will move to the next state … if not renewed". Only an Enabled
    paid subscription's date is a renewal; a trial's is its end, a Warning one's the end of its
    grace period, a Suspended or LockedOut one's its deletion; a Deleted one has none.
    """
    if status == "Enabled":
        return "trial ends" if is_trial else "renews"
    if status == "Warning":
        return "grace ends"
    return "deleted" if status in LAPSED_STATUSES else None
