"""Change plans as pure rules: actions, states, the assignLicense body of a line, its reverse."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

# Application permissions that let the app call assignLicense; the first is the one we ask for
# (least privileged, Microsoft's user-assignlicense-permissions table). The others imply it.
WRITE_ROLE = "LicenseAssignment.ReadWrite.All"
WRITE_ROLES = frozenset({WRITE_ROLE, "User.ReadWrite.All", "Directory.ReadWrite.All"})
UNDO_WINDOW = timedelta(days=30)


class LineAction(StrEnum):
    REMOVE = "remove"  # take a directly assigned SKU away
    SWAP = "swap"  # add the target SKU and remove the SKU in one call (no gap in service)
    REMOVE_DUPLICATE = "remove_duplicate"  # drop the direct copy of a group-inherited SKU
    ADD = "add"  # re-assign a SKU (the reverse of a removal: undo)


class LineState(StrEnum):
    PENDING = "pending"  # not sent yet
    SENDING = "sending"  # written before the call: the outcome is unknown until checked
    APPLIED = "applied"  # Graph answered 200
    FAILED = "failed"  # Graph refused (the error and request-id are on the line)
    CONFIRMED = "confirmed"  # a delta sync afterwards saw the change
    DRIFTED = "drifted"  # a delta sync afterwards saw something else (changed meanwhile?)


class PlanStatus(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    APPLYING = "applying"
    APPLIED = "applied"


FINAL_STATES = frozenset(
    {LineState.APPLIED, LineState.FAILED, LineState.CONFIRMED, LineState.DRIFTED}
)
DONE_STATES = frozenset({LineState.APPLIED, LineState.CONFIRMED, LineState.DRIFTED})


class PlanRefused(ValueError):
    """An action the plan's state, the caller's role or the tenant's settings do not allow."""


def split_plans(text: str | None) -> tuple[str, ...]:
    """Comma-joined service plan ids as a tuple (empty text: none)."""
    return tuple(p for p in (text or "").split(",") if p)


def join_plans(plans: Iterable[str]) -> str:
    return ",".join(sorted({p.lower() for p in plans}))


@dataclass(frozen=True, slots=True)
class Holding:
    """One licenseAssignmentState of a user: direct when `group` is None."""

    sku_id: str
    group: str | None
    disabled_plans: tuple[str, ...] = ()
    state: str | None = "Active"


@dataclass(frozen=True, slots=True)
class LineSpec:
    """What a line changes: enough to build the call, check the outcome and reverse it."""

    action: LineAction
    sku_id: str
    target_sku_id: str | None = None
    add_disabled_plans: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if (self.action is LineAction.SWAP) != bool(self.target_sku_id):
            raise ValueError("a swap, and only a swap, names a target SKU")

    def assign_body(self, prior_disabled: tuple[str, ...] = ()) -> dict[str, object]:
        """The assignLicense body (both lists always present, as Microsoft requires)."""
        if self.action is LineAction.ADD:
            plans = self.add_disabled_plans or prior_disabled
            return {"addLicenses": [_added(self.sku_id, plans)], "removeLicenses": []}
        if self.action is LineAction.SWAP:
            added = _added(self.target_sku_id or "", self.add_disabled_plans)
            return {"addLicenses": [added], "removeLicenses": [self.sku_id]}
        return {"addLicenses": [], "removeLicenses": [self.sku_id]}

    def done(self, holdings: Iterable[Holding]) -> bool:
        """True when the user's licences show the line's outcome."""
        direct = {h.sku_id for h in holdings if h.group is None}
        if self.action is LineAction.ADD:
            return self.sku_id in direct
        if self.action is LineAction.SWAP:
            return self.sku_id not in direct and self.target_sku_id in direct
        return self.sku_id not in direct

    def untouched(self, holdings: Iterable[Holding]) -> bool:
        """True when the user's licences are still as before the line (safe to send it)."""
        direct = {h.sku_id for h in holdings if h.group is None}
        if self.action is LineAction.ADD:
            return self.sku_id not in direct
        if self.action is LineAction.SWAP:
            return self.sku_id in direct and self.target_sku_id not in direct
        return self.sku_id in direct


def _added(sku_id: str, plans: Iterable[str]) -> dict[str, object]:
    return {"skuId": sku_id, "disabledPlans": sorted(set(plans))}


def inherited_from(holdings: Iterable[Holding], sku_id: str) -> list[str]:
    """Groups that hand the user this SKU (a removal of only-inherited licences is refused)."""
    return [h.group for h in holdings if h.sku_id == sku_id and h.group is not None]


def refusal(spec: LineSpec, holdings: list[Holding], group_names: Mapping[str, str]) -> str | None:
    """Why a line cannot be sent to this user as things stand (None: it can)."""
    direct = {h.sku_id for h in holdings if h.group is None}
    removes = spec.action in (LineAction.REMOVE, LineAction.SWAP, LineAction.REMOVE_DUPLICATE)
    if removes and spec.sku_id not in direct:
        groups = inherited_from(holdings, spec.sku_id)
        if groups:
            named = ", ".join(repr(group_names.get(g, g)) for g in groups)
            return (
                f"the licence is inherited from group {named}, not assigned directly: remove the "
                "user from that group or change the group's licences instead"
            )
        return "the user no longer holds this SKU directly"
    if spec.action is LineAction.REMOVE_DUPLICATE and not inherited_from(holdings, spec.sku_id):
        return "no group hands this SKU to the user any more: removing it would take it away"
    return None


def map_disabled_plans(
    disabled: Iterable[str], source_plans: Mapping[str, str], target_plans: Mapping[str, str]
) -> tuple[str, ...]:
    """A swap carries a disabled plan over where the target SKU has a plan of the same name.

    `source_plans`/`target_plans` map service plan id → service plan name.
    """
    by_name = {name.lower(): plan_id for plan_id, name in target_plans.items()}
    carried = []
    for plan_id in disabled:
        name = source_plans.get(plan_id)
        target = by_name.get(name.lower()) if name else None
        if target is None and plan_id in target_plans:
            target = plan_id
        if target is not None:
            carried.append(target)
    return tuple(sorted(set(carried)))


def reverse(spec: LineSpec, prior_disabled: tuple[str, ...]) -> LineSpec:
    """The line that undoes `spec`: the same SKU back with the same disabled plans."""
    if spec.action is LineAction.SWAP and spec.target_sku_id:
        return LineSpec(LineAction.SWAP, spec.target_sku_id, spec.sku_id, prior_disabled)
    if spec.action is LineAction.ADD:
        return LineSpec(LineAction.REMOVE, spec.sku_id)
    return LineSpec(LineAction.ADD, spec.sku_id, None, prior_disabled)


def undo_deadline(applied_at: datetime) -> datetime:
    return applied_at + UNDO_WINDOW
