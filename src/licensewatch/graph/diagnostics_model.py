"""What a setup diagnostic reports: one check per step (ok, fail, warn, skipped) and the verdict."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any


class CheckStatus(StrEnum):
    OK = "ok"
    FAIL = "fail"
    WARN = "warn"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class Check:
    key: str
    title: str
    status: CheckStatus
    detail: str
    fix: str | None = None


@dataclass(frozen=True, slots=True)
class DiagnosticReport:
    checks: list[Check]
    ok: bool
    tenant_id: str | None
    roles: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "tenant_id": self.tenant_id,
            "roles": list(self.roles),
            "checks": [{**asdict(c), "status": c.status.value} for c in self.checks],
        }
