"""Use cases for the web app's local accounts: create, change, disable, scope, authenticate.

API tokens live in `tokens.py` and the principal in `principals.py`; their names are imported
here too, so callers keep one place to import account use cases from.
"""

from __future__ import annotations

import functools
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, delete, select, update

from licensewatch.services.audit import DetailValue, append
from licensewatch.services.passwords import hash_password, needs_rehash, verify_password
from licensewatch.services.principals import LAST_SEEN_GRANULARITY as LAST_SEEN_GRANULARITY
from licensewatch.services.principals import AccountError as AccountError
from licensewatch.services.principals import Principal as Principal
from licensewatch.services.principals import digest as digest
from licensewatch.services.principals import principal_of as principal_of
from licensewatch.services.principals import scope_of as scope_of
from licensewatch.services.tokens import TOKEN_LIFETIME as TOKEN_LIFETIME
from licensewatch.services.tokens import TOKEN_PREFIX as TOKEN_PREFIX
from licensewatch.services.tokens import TokenState as TokenState
from licensewatch.services.tokens import TokenView as TokenView
from licensewatch.services.tokens import create_token as create_token
from licensewatch.services.tokens import list_tokens as list_tokens
from licensewatch.services.tokens import resolve_token as resolve_token
from licensewatch.services.tokens import revoke_live_tokens
from licensewatch.services.tokens import revoke_token as revoke_token
from licensewatch.services.tokens import revoke_tokens_of as revoke_tokens_of
from licensewatch.services.tokens import token_is_live as token_is_live
from licensewatch.storage.database import session_scope
from licensewatch.storage.models.accounts import Account, ApiToken, Role, WebSession
from licensewatch.storage.models.base import utcnow
from licensewatch.storage.models.tenants import Tenant

MIN_PASSWORD_LENGTH = 12
_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,149}")


@functools.cache
def _dummy_hash() -> str:
    """Verified when the username is unknown, so a miss costs as much time as a wrong password.

    Made on first use: hashing at import cost every CLI command a quarter of a second.
    """
    return hash_password(secrets.token_urlsafe(16))


@dataclass(frozen=True, slots=True)
class AccountView:
    """An account as listed (no hash)."""

    username: str
    role: Role
    created_at: datetime
    last_login_at: datetime | None
    disabled: bool


def generate_password() -> str:
    """A strong random password (24 URL-safe characters, ~143 bits)."""
    return secrets.token_urlsafe(18)


def create_account(engine: Engine, username: str, role: Role, password: str | None = None) -> str:
    """Creates an account and returns its password (generated when none is given)."""
    name = username.strip()
    if not _USERNAME.fullmatch(name):
        raise AccountError(
            "username must be 1-150 characters: letters, digits and . _ @ - "
            "(starting with a letter or digit)"
        )
    password = generate_password() if password is None else password
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    password_hash = hash_password(password)  # before the transaction: no lock held while hashing
    with session_scope(engine) as session:
        if session.scalar(select(Account.id).where(Account.username == name)) is not None:
            raise AccountError(f"account {name!r} already exists")
        session.add(Account(username=name, password_hash=password_hash, role=role))
        append(session, "account.created", {"account": name, "role": Role(role).value})
    return password


def set_password(
    engine: Engine, username: str, password: str | None = None, *, revoke_tokens: bool = True
) -> str:
    """Replaces an account's password (generated when none is given) and ends its sessions.

    Its API tokens are revoked too unless `revoke_tokens` is False: a password is usually
    changed because it may have leaked, and whoever had it could have made tokens.
    """
    password = generate_password() if password is None else password
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    new_hash = hash_password(password)  # before the transaction: no lock held while hashing
    with session_scope(engine) as session:
        account = session.scalar(select(Account).where(Account.username == username))
        if account is None:
            raise AccountError(f"no account named {username!r}")
        account.password_hash = new_hash
        session.execute(delete(WebSession).where(WebSession.account_id == account.id))
        revoked = 0
        if revoke_tokens:
            result = session.execute(revoke_live_tokens().where(ApiToken.account_id == account.id))
            revoked = int(result.rowcount)  # type: ignore[attr-defined]
        detail: dict[str, DetailValue] = {"account": username, "tokens_revoked": revoked}
        append(session, "account.password_changed", detail)
    return password


def list_accounts(engine: Engine) -> list[AccountView]:
    """Every account, by username."""
    with session_scope(engine, write=False) as session:
        rows = session.scalars(select(Account).order_by(Account.username)).all()
        return [
            AccountView(a.username, Role(a.role), a.created_at, a.last_login_at, a.disabled)
            for a in rows
        ]


def set_disabled(engine: Engine, username: str, *, disabled: bool = True) -> None:
    """Disables (or re-enables) an account; disabling also ends its sessions."""
    with session_scope(engine) as session:
        account = session.scalar(select(Account).where(Account.username == username))
        if account is None:
            raise AccountError(f"no account named {username!r}")
        account.disabled = disabled
        if disabled:
            session.execute(delete(WebSession).where(WebSession.account_id == account.id))
        action = "account.disabled" if disabled else "account.enabled"
        append(session, action, {"account": username})


def set_tenant_scope(engine: Engine, username: str, tenants: list[str] | None) -> None:
    """Limits a viewer to some tenants (by name), or lifts the limit with None."""
    with session_scope(engine) as session:
        account = session.scalar(select(Account).where(Account.username == username))
        if account is None:
            raise AccountError(f"no account named {username!r}")
        if tenants is not None:
            if account.role == Role.ADMIN:
                raise AccountError("administrators see every tenant: scope a viewer account")
            known = set(session.scalars(select(Tenant.name)))
            unknown = sorted(set(tenants) - known)
            if unknown:
                raise AccountError(f"no tenant named {', '.join(map(repr, unknown))}")
        account.tenant_scope = sorted(set(tenants)) if tenants is not None else None
        scope = "all" if account.tenant_scope is None else account.tenant_scope
        append(session, "account.scope_changed", {"account": username, "tenants": scope})


def account_exists(engine: Engine, username: str) -> bool:
    with session_scope(engine, write=False) as session:
        found = session.scalar(select(Account.id).where(Account.username == username.strip()))
        return found is not None


def count_accounts(engine: Engine) -> int:
    """How many accounts exist (zero means the app still needs its first admin)."""
    with session_scope(engine, write=False) as session:
        return len(session.scalars(select(Account.id)).all())


_SIGN_IN_COLUMNS = (
    Account.id,
    Account.username,
    Account.role,
    Account.disabled,
    Account.password_hash,
)


def authenticate(engine: Engine, username: str, password: str) -> Principal | None:
    """The account when the password matches and it is enabled; None otherwise.

    The hash is checked with no transaction open (it takes ~0.5 s of CPU): on SQLite a held
    write lock made parallel sign-ins fail with "database is locked" and stalled syncs.
    """
    with engine.connect() as connection:
        row = connection.execute(
            select(*_SIGN_IN_COLUMNS).where(Account.username == username.strip())
        ).first()
    stored = row.password_hash if row is not None else _dummy_hash()
    try:
        verify_password(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None or row.disabled:
        return None
    values: dict[str, object] = {"last_login_at": utcnow()}
    if needs_rehash(stored):
        values["password_hash"] = hash_password(password)
    with session_scope(engine) as session:  # one short write
        changed = session.execute(
            update(Account)
            .where(Account.id == row.id, Account.password_hash == stored)
            .where(Account.disabled.is_(False))
            .values(**values)
        )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        return None  # the password was changed (or the account disabled) meanwhile
    return Principal(row.id, row.username, Role(row.role))
