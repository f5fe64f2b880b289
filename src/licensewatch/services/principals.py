"""Who is calling: an account's principal (role, tenant scope) and the digest stored for secrets."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from licensewatch.storage.models.accounts import Account, Role

# Touching last_seen on every request would turn every page view into a write.
LAST_SEEN_GRANULARITY = timedelta(minutes=1)


class AccountError(ValueError):
    """A request about accounts that cannot be honoured; the message says why."""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: an account and its role."""

    account_id: int
    username: str
    role: Role
    tenants: frozenset[str] | None = None  # a viewer's tenant scope; None: every tenant

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


def digest(value: str) -> str:
    """SHA-256 hex of a session id or token: what is stored instead of the value."""
    return hashlib.sha256(value.encode()).hexdigest()


def scope_of(role: str, tenant_scope: list[Any] | None) -> frozenset[str] | None:
    """The tenants a role with a stored scope may see (admins: all of them)."""
    if role == Role.ADMIN or tenant_scope is None:
        return None
    return frozenset(str(name) for name in tenant_scope)


def principal_of(account: Account) -> Principal:
    """The caller an account row stands for (role and tenant scope)."""
    scope = scope_of(account.role, account.tenant_scope)
    return Principal(account.id, account.username, Role(account.role), scope)
