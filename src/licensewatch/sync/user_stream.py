"""The user stream, declared once: Graph property → column → kind, in the users table's order.

Like a dlt or Singer stream: `$select` (`select`), the row builders of full and delta syncs
(`sync/row_builder.py`), the staging and bulk writers (which insert `USER_COLUMNS`, the same
order) and the user export columns (`EXPORTED`) all derive from `FIELDS`. Adding a Graph field
is one line here, a model column and a migration; the import-time check below fails on a column
the stream does not declare, or declares out of the table's order.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Literal

from licensewatch.storage.writers import USER_COLUMNS, USERS

Kind = Literal["key", "text", "flag", "time"]
# signInActivity needs AuditLog.Read.All (and Entra ID P1): selected only when the app has it,
# and never on /users/delta, which cannot select it (learn.microsoft.com/graph/api/user-delta).
SIGN_IN = "signInActivity"
SIGN_IN_PERMISSION = "AuditLog.Read.All"


@dataclass(frozen=True, slots=True)
class Field:
    """One stored column and where Graph has it: `path` is a property, or "object.property"."""

    column: str
    path: str
    kind: Kind
    exported: bool = False  # a column of the users export (web/exports.py)

    @property
    def graph_property(self) -> str:
        """The top-level Graph property `$select` names."""
        return self.path.partition(".")[0]

    @property
    def limit(self) -> int:
        """The column's length: longer text is clipped (PostgreSQL enforces lengths)."""
        length = getattr(USERS.c[self.column].type, "length", None)
        return length if isinstance(length, int) else sys.maxsize


# In the users table's column order, after dataset_id (the run) and before… nothing: tenant_id is
# the sync's own value, declared here as a column without a Graph path.
FIELDS: tuple[Field, ...] = (
    Field("id", "id", "key"),
    Field("user_principal_name", "userPrincipalName", "text", exported=True),
    Field("display_name", "displayName", "text", exported=True),
    Field("mail", "mail", "text"),
    Field("account_enabled", "accountEnabled", "flag", exported=True),
    Field("user_type", "userType", "text", exported=True),
    Field("department", "department", "text", exported=True),
    Field("job_title", "jobTitle", "text"),
    Field("company_name", "companyName", "text"),
    Field("country", "country", "text", exported=True),
    Field("usage_location", "usageLocation", "text"),
    Field("created_at", "createdDateTime", "time"),
    Field("employee_id", "employeeId", "text"),
    Field("on_premises_sync_enabled", "onPremisesSyncEnabled", "flag"),
    Field("cost_center", "employeeOrgData.costCenter", "text"),
    Field("last_sign_in_at", f"{SIGN_IN}.lastSignInDateTime", "time"),
    Field("last_non_interactive_sign_in_at", f"{SIGN_IN}.lastNonInteractiveSignInDateTime", "time"),
    Field("last_successful_sign_in_at", f"{SIGN_IN}.lastSuccessfulSignInDateTime", "time"),
)
# Columns whose values the sync supplies, not Graph: (position in the row, column).
RUN_COLUMNS = (("dataset_id", 0), ("tenant_id", 2))
# Read for the licence rows (sync/row_builder.py), stored in user_licenses.
LICENCE_PROPERTIES = ("assignedLicenses", "licenseAssignmentStates")
EXPORTED = tuple(field.column for field in FIELDS if field.exported)


def properties(*, with_sign_in: bool) -> tuple[str, ...]:
    """The Graph properties a user read selects, each once, in declaration order."""
    found = dict.fromkeys(field.graph_property for field in FIELDS)
    found.update(dict.fromkeys(LICENCE_PROPERTIES))
    if not with_sign_in:
        found.pop(SIGN_IN)
    return tuple(found)


def select(*, with_sign_in: bool = False) -> str:
    """The `$select` text of /users (and /users/delta, always without signInActivity)."""
    return ",".join(properties(with_sign_in=with_sign_in))


def _check() -> None:
    columns = [field.column for field in FIELDS]
    expected = [name for name in USER_COLUMNS if name not in dict(RUN_COLUMNS)]
    if columns != expected:
        raise RuntimeError(
            f"sync/user_stream.py declares {columns}, the users table has {expected}: declare "
            "every users column once, in the table's order"
        )
    for name, position in RUN_COLUMNS:
        if USER_COLUMNS[position] != name:
            raise RuntimeError(f"users column {position} is not {name}")


_check()
