"""The rules over one tenant's facts: remove, remove_addon, remove_duplicate, downgrade.

Pure functions of `facts.TenantFacts` (no database): docs/intelligence.md#recommendations explains
each rule and its evidence. One user's licence gets at most one recommendation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from licensewatch.domain.sections import is_free
from licensewatch.domain.usage import (
    LABELS,
    Capability,
    capabilities,
    hidden_plans,
    mailbox_fits,
    mailbox_quota,
    size_text,
)
from licensewatch.intelligence.recommendations.facts import (
    Holding,
    SkuFacts,
    TenantFacts,
    UsageFacts,
    UserFacts,
)
from licensewatch.intelligence.recommendations.model import Action, Confidence

PriceOf = Callable[[str], tuple[Decimal | None, str | None]]  # sku id -> (monthly, currency)
NameOf = Callable[[str], str]  # sku id -> friendly name
PlanNameOf = Callable[[str], str]  # service plan name -> friendly name


@dataclass(frozen=True)
class Draft:
    """A recommendation before names and money are added."""

    user: UserFacts
    action: Action
    sku_id: str
    target_id: str | None
    reason: str
    evidence: dict[str, str]
    confidence: Confidence


@dataclass(frozen=True)
class Rules:
    facts: TenantFacts
    price: PriceOf
    name: NameOf
    plan_name: PlanNameOf
    disabled_days: int
    excluded_skus: frozenset[str]

    @property
    def window_start(self) -> date | None:
        refresh = self.facts.refresh
        return refresh - timedelta(days=self.facts.period.days) if refresh else None


def _day(value: datetime | date | None) -> str:
    if value is None:
        return "never"
    return (value.date() if isinstance(value, datetime) else value).isoformat()


def used_capabilities(usage: UsageFacts, start: date) -> frozenset[Capability]:
    """What the user did in the period (workload dates on or after `start`, app platforms)."""
    used = {cap for cap, when in usage.last.items() if when is not None and when >= start}
    if usage.windows or usage.mac:
        used.add(Capability.DESKTOP_APPS)
    if usage.mobile:
        used.add(Capability.MOBILE_APPS)
    if usage.web:
        used.add(Capability.WEB_APPS)
    return frozenset(used)


def _labels(caps: frozenset[Capability]) -> str:
    return ", ".join(LABELS[c] for c in Capability if c in caps) or "nothing"


def _group_note(rules: Rules, holding: Holding) -> str:
    if not holding.groups:
        return ""
    names = ", ".join(rules.facts.groups.get(g, g) for g in holding.groups)
    if holding.direct:
        return f" Also inherited from group {names}."
    return f" Inherited from group {names}: remove the user from the group."


def _old_enough(user: UserFacts, start: date) -> bool:
    """Created before the period began (a newer account has not had the time to be active)."""
    return user.created_at is None or user.created_at.date() < start


def _removal(rules: Rules, user: UserFacts) -> tuple[str, dict[str, str], Confidence] | None:
    """Why every licence of the user can go (disabled, never signed in, no activity), or None."""
    facts = rules.facts
    if user.enabled is False:
        since = user.disabled_since
        recent = since is not None and facts.now - since < timedelta(days=rules.disabled_days)
        evidence = {"account": "disabled"}
        if since is not None:
            evidence["disabled_since"] = _day(since)
        when = f" since {_day(since)}" if since is not None else ""
        confidence = Confidence.MEDIUM if recent else Confidence.HIGH
        return f"The account is disabled{when}: nobody can use this licence.", evidence, confidence
    old = facts.now - timedelta(days=facts.period.days)
    if (
        facts.sign_in_data
        and user.never_signed_in
        and (user.created_at is None or user.created_at <= old)
    ):
        created = _day(user.created_at) if user.created_at else "unknown"
        evidence = {"last_sign_in": "never", "created": created}
        return f"Never signed in (account created {created}).", evidence, Confidence.HIGH
    start = rules.window_start
    usage = user.usage
    if usage is None or start is None or not _old_enough(user, start):
        return None
    active_apps = usage.apps_last is not None and usage.apps_last >= start
    if used_capabilities(usage, start) or active_apps:
        return None
    evidence = _period_evidence(rules)
    for cap, last in usage.last.items():
        evidence[f"{cap.value}_last_activity"] = _day(last)
    evidence["apps_last_activity"] = _day(usage.apps_last)
    evidence["last_sign_in"] = _day(user.last_sign_in)
    signed_in = user.last_sign_in is not None and user.last_sign_in.date() >= start
    confidence = Confidence.MEDIUM if signed_in else Confidence.HIGH
    reason = (
        f"No activity in any workload in the {facts.period.days} days to {_day(facts.refresh)} "
        "(usage reports)."
    )
    if signed_in:
        reason += " The user still signs in: check for use the reports cannot see."
    return reason, evidence, confidence


def _period_evidence(rules: Rules) -> dict[str, str]:
    return {"period": rules.facts.period.value, "as_of": _day(rules.facts.refresh)}


def _effective(sku: SkuFacts, holding: Holding) -> frozenset[str]:
    return sku.plans - holding.disabled_everywhere()


def _addon_of(rules: Rules, user: UserFacts, sku_id: str, held: dict[str, SkuFacts]) -> str | None:
    """The other held SKU whose plans include every plan of this one, or None."""
    mine = _effective(held[sku_id], user.holdings[sku_id])
    if not held[sku_id].plans:
        return None
    for other_id, other in sorted(held.items()):
        if other_id == sku_id:
            continue
        theirs = _effective(other, user.holdings[other_id])
        # Identical plan sets cover each other: keep the SKU with the smaller id.
        if mine <= theirs and (mine != theirs or sku_id > other_id):
            return other_id
    return None


def _cheaper(rules: Rules, target: SkuFacts, source: SkuFacts, plans: frozenset[str]) -> bool:
    """Both priced in one currency: by price. Otherwise only a lesser edition of the same product
    (a strict subset of its plans, E5 -> E3) is surely cheaper: across families (E3 -> E1,
    Business Basic) only prices can tell."""
    p_source, c_source = rules.price(source.sku_id)
    p_target, c_target = rules.price(target.sku_id)
    if p_source is not None and p_target is not None and c_source and c_source == c_target:
        return p_target < p_source
    return target.plans < plans


def _downgrade(rules: Rules, user: UserFacts, sku_id: str) -> Draft | None:
    facts, start, usage = rules.facts, rules.window_start, user.usage
    if usage is None or start is None or not _old_enough(user, start):
        return None
    source, holding = facts.skus[sku_id], user.holdings[sku_id]
    plans = _effective(source, holding)
    mine = capabilities(plans)
    used = used_capabilities(usage, start) & mine
    if not used:
        return None  # nothing this product gives was used: removal, not a downgrade, is the call
    candidates: list[tuple[tuple[int, Decimal, int, int, str], SkuFacts]] = []
    for target in facts.skus.values():
        if (
            target.sku_id == sku_id
            or target.sku_id in user.holdings
            or target.sku_id in rules.excluded_skus
            or not target.purchasable
            or not target.capabilities
            or not (target.plans & plans)
            or not used <= target.capabilities
            or not (plans - target.plans)
            or not _cheaper(rules, target, source, plans)
        ):
            continue
        if Capability.EXCHANGE in mine:
            if Capability.EXCHANGE not in target.capabilities:
                continue  # dropping Exchange would delete the mailbox
            quota, before = target.quota, mailbox_quota(plans)
            smaller = before is not None and quota is not None and quota < before
            if smaller and not mailbox_fits(usage.storage_used, quota):
                continue
        price, currency = rules.price(target.sku_id)
        priced = price is not None and currency is not None
        # Priced: the cheapest; else the closest (most plans kept), the least drastic change.
        shared = len(target.plans & plans)
        key = (0 if priced else 1, price or Decimal(0), -shared, len(target.plans),
               target.part_number)  # fmt: skip
        candidates.append((key, target))
    if not candidates:
        return None
    target = min(candidates, key=lambda item: item[0])[1]
    lost = mine - target.capabilities
    hidden = hidden_plans(plans - target.plans)
    if lost and not hidden:
        confidence = Confidence.HIGH
    elif lost:
        confidence = Confidence.MEDIUM
    else:
        confidence = Confidence.LOW
    evidence = _period_evidence(rules)
    evidence["used"] = _labels(used)
    if lost:
        evidence["unused"] = _labels(lost)
    if Capability.EXCHANGE in mine:
        evidence["mailbox"] = size_text(usage.storage_used)
        evidence["target_mailbox_quota"] = size_text(target.quota)
    if hidden:
        evidence["not_visible_in_reports"] = ", ".join(rules.plan_name(p) for p in hidden)
    reason = (
        f"Used only {_labels(used)} of {rules.name(sku_id)} in the {facts.period.days} days to "
        f"{_day(facts.refresh)}: {rules.name(target.sku_id)} covers that."
    )
    if lost:
        reason += f" Unused: {_labels(lost)}."
    if hidden:
        reason += " Check first: usage reports cannot show the plans it would lose."
    reason += _group_note(rules, holding)
    return Draft(user, Action.DOWNGRADE, sku_id, target.sku_id, reason, evidence, confidence)


def user_drafts(rules: Rules, user: UserFacts) -> list[Draft]:
    """Every recommendation for one user, at most one per held SKU."""
    held = {
        sku_id: rules.facts.skus[sku_id]
        for sku_id in sorted(user.holdings)
        if sku_id in rules.facts.skus
        and sku_id not in rules.excluded_skus
        and not is_free(rules.facts.skus[sku_id].part_number)
    }
    if not held:
        return []
    removal = _removal(rules, user)
    drafts: list[Draft] = []
    if removal is not None:
        reason, evidence, confidence = removal
        for sku_id in held:
            note = _group_note(rules, user.holdings[sku_id])
            drafts.append(
                Draft(user, Action.REMOVE, sku_id, None, reason + note, evidence, confidence)
            )
        return drafts
    for sku_id in held:
        holding = user.holdings[sku_id]
        covering = _addon_of(rules, user, sku_id, held)
        if covering is not None:
            reason = (
                f"Every service plan of {rules.name(sku_id)} is already included in "
                f"{rules.name(covering)}, which the user also holds."
            ) + _group_note(rules, holding)
            evidence = {"included_in": held[covering].part_number}
            drafts.append(
                Draft(user, Action.REMOVE_ADDON, sku_id, None, reason, evidence, Confidence.HIGH)
            )
            continue
        if holding.direct and holding.groups:
            names = ", ".join(rules.facts.groups.get(g, g) for g in holding.groups)
            reason = (
                f"Assigned directly and through group {names}: remove the direct assignment "
                "(the group keeps the licence, and leaving the group then frees the seat)."
            )
            evidence = {"groups": names}
            duplicate = Action.REMOVE_DUPLICATE
            drafts.append(Draft(user, duplicate, sku_id, None, reason, evidence, Confidence.HIGH))
            continue
        downgrade = _downgrade(rules, user, sku_id) if rules.facts.usage_usable else None
        if downgrade is not None:
            drafts.append(downgrade)
    return drafts
