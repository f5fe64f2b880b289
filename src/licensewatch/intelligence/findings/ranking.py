"""Findings in the order an admin acts on them (money at stake first) and their total."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from licensewatch.intelligence.findings.base import Finding
from licensewatch.intelligence.money import Cost


def by_money(findings: Iterable[Finding]) -> list[Finding]:
    """The most money at stake first; then findings without cost by size; unavailable, empty
    rules last (a stable order: ties keep the rules' own order)."""

    def key(finding: Finding) -> tuple[int, Decimal, int]:
        if finding.unavailable:
            return (3, Decimal(0), 0)
        if not finding.count:
            return (2, Decimal(0), 0)
        money = finding.cost.sort_key() if finding.cost is not None else Decimal(0)
        return (0 if money else 1, money, -finding.count)

    return sorted(findings, key=key)


def total_at_stake(findings: Iterable[Finding]) -> Cost:
    """The money at stake per month over the findings (a licence may count in two rules)."""
    total = Cost()
    for finding in findings:
        if finding.cost is not None and not finding.unavailable:
            total.merge(finding.cost)
    return total
