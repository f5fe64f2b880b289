"""What a licence report shows (balance, costs, findings, changes), apart from how it is built.

Its own module so that `report_formats` (rendering) and `reports` (building, sending) both
depend on it without depending on each other in a cycle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from licensewatch.domain.balance import BalanceRow
from licensewatch.intelligence.costs import TenantCosts
from licensewatch.intelligence.findings import Finding


@dataclass
class Report:
    """Everything a report shows, for one tenant or all."""

    title: str
    generated_at: datetime
    since: datetime
    balance: list[BalanceRow] = field(default_factory=list)
    costs: list[TenantCosts] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)
