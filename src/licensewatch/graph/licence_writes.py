"""Licence writes through Graph: assignLicense and reading one user's licences (no database)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from licensewatch.domain.plans import Holding
from licensewatch.graph.client import GraphClient

# learn.microsoft.com/graph/api/user-assignlicense (api-reference/v1.0/api/user-assignlicense.md)
_ASSIGN = "/users/{key}/assignLicense"
_READ = "/users/{key}?$select=id,userPrincipalName,usageLocation,licenseAssignmentStates"


@dataclass(frozen=True, slots=True)
class AssignResult:
    request_id: str
    holdings: list[Holding]


def _key(user: str) -> str:
    return quote(user, safe="@")


def holdings_of(body: dict[str, Any]) -> list[Holding]:
    """licenseAssignmentStates (or, without them, assignedLicenses) as holdings."""
    states = body.get("licenseAssignmentStates")
    if isinstance(states, list):
        found = []
        for item in states:
            if isinstance(item, dict) and isinstance(item.get("skuId"), str):
                group = item.get("assignedByGroup")
                plans = item.get("disabledPlans") or []
                found.append(
                    Holding(
                        item["skuId"].lower(),
                        group.lower() if isinstance(group, str) and group else None,
                        tuple(str(p).lower() for p in plans),
                        item.get("state") if isinstance(item.get("state"), str) else None,
                    )
                )
        return found
    licences = body.get("assignedLicenses")
    if isinstance(licences, list):
        return [
            Holding(str(item["skuId"]).lower(), None, tuple(item.get("disabledPlans") or ()))
            for item in licences
            if isinstance(item, dict) and item.get("skuId")
        ]
    return []


def read_holdings(client: GraphClient, user: str) -> list[Holding]:
    """The user's licence assignments now (direct and inherited, with disabled plans)."""
    return holdings_of(client.get_json(_READ.format(key=_key(user))))


def assign_license(client: GraphClient, user: str, body: dict[str, object]) -> AssignResult:
    """POST assignLicense (addLicenses and removeLicenses in one call); GraphError on refusal."""
    answer, request_id = client.post_json(_ASSIGN.format(key=_key(user)), dict(body))
    return AssignResult(request_id, holdings_of(answer))
