"""Tenant-wide usage counts kept while the report rows stream past (nothing joined to users).

The counts need the active-users report's refresh date, known only at its end, so the rows are
tallied by date (a report has a few hundred distinct dates): memory does not grow with the tenant.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from licensewatch.domain.usage import Period
from licensewatch.domain.usage_csv import WORKLOADS, ActiveUserRow, AppUserRow, MailboxRow

_PLATFORMS = ("windows", "mac", "mobile", "web")


def _later(a: date | None, b: date | None) -> date | None:
    if a is None:
        return b
    return a if b is None or b <= a else b


class UsageTally:
    """What `counts()`, the refresh dates and concealment need, row by row."""

    def __init__(self) -> None:
        self.refresh: list[date | None] = [None, None, None]  # active, apps, mailboxes
        for report in range(3):
            self.forget(report)

    def forget(self, report: int) -> None:
        """Start a report's tally again (0 active users, 1 apps, 2 mailboxes): read anew."""
        self.refresh[report] = None
        if report == 0:
            self.active_rows = 0
            self.hashed_names = True  # until a UPN with "@" shows up (hashed names have none)
            self._live = 0
            self._by_workload: list[Counter[date | None]] = [Counter() for _ in WORKLOADS]
            self._by_last_any: Counter[date | None] = Counter()  # a live user's latest activity
        elif report == 1:
            self._platforms = [0, 0, 0, 0]
        else:
            self._mailboxes = 0
            self._mailbox_bytes = 0

    def active(self, row: ActiveUserRow) -> None:
        self.active_rows += 1
        self.refresh[0] = _later(self.refresh[0], row.refresh)
        if self.hashed_names and "@" in row.upn:
            self.hashed_names = False
        if row.is_deleted:
            return
        self._live += 1
        dates = row[4:]
        for counter, when in zip(self._by_workload, dates, strict=True):
            counter[when] += 1
        self._by_last_any[max(filter(None, dates), default=None)] += 1

    def app(self, row: AppUserRow) -> None:
        self.refresh[1] = _later(self.refresh[1], row.refresh)
        for i, used in enumerate((row.windows, row.mac, row.mobile, row.web)):
            self._platforms[i] += used

    def mailbox(self, row: MailboxRow) -> None:
        self.refresh[2] = _later(self.refresh[2], row.refresh)
        if not row.is_deleted:
            self._mailboxes += 1
            self._mailbox_bytes += row.storage_used or 0

    @property
    def concealed_rows(self) -> bool:
        """True when the active-users report has rows and none carries a real UPN."""
        return self.active_rows > 0 and self.hashed_names

    def counts(self, period: Period) -> dict[str, int]:
        """Tenant-wide counts: right even with concealed names (nothing is joined to users)."""
        refresh = self.refresh[0]
        start = refresh - timedelta(days=period.days) if refresh else None

        def active_since(counter: Counter[date | None]) -> int:
            if start is None:
                return 0
            return sum(n for when, n in counter.items() if when is not None and when >= start)

        counts = {"users": self._live}
        for workload, counter in zip(WORKLOADS, self._by_workload, strict=True):
            counts[f"active_{workload}"] = active_since(counter)
        counts["active_any"] = active_since(self._by_last_any)
        counts["inactive"] = self._live - counts["active_any"]
        for platform, n in zip(_PLATFORMS, self._platforms, strict=True):
            counts[f"apps_{platform}"] = n
        counts["mailboxes"] = self._mailboxes
        counts["mailbox_bytes"] = self._mailbox_bytes
        return counts
