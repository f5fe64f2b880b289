"""Who may use licensewatch after an Entra ID sign-in: app roles or groups mapped to a role."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

ADMIN_APP_ROLE = "licensewatch.Admin"
VIEWER_APP_ROLE = "licensewatch.Viewer"
MULTI_TENANT_AUTHORITY = "organizations"

MappedRole = Literal["admin", "viewer"]


def role_from_claims(
    app_roles: Iterable[str],
    groups: Iterable[str],
    admin_groups: Iterable[str],
    viewer_groups: Iterable[str],
) -> MappedRole | None:
    """Admin wins over viewer; no app role and no configured group means no access.

    App roles are what Microsoft recommends (they survive the groups overage and are managed
    under Enterprise applications > Users and groups); group object IDs are for shops that
    already manage access by group.
    """
    held_roles = {r.lower() for r in app_roles}
    held_groups = {g.lower() for g in groups}
    if ADMIN_APP_ROLE.lower() in held_roles or held_groups & {g.lower() for g in admin_groups}:
        return "admin"
    if VIEWER_APP_ROLE.lower() in held_roles or held_groups & {g.lower() for g in viewer_groups}:
        return "viewer"
    return None
