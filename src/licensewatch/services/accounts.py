"""Use cases for the web app's local accounts: create, authenticate, sessions and API tokens."""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, Update, delete, select, update

from licensewatch.services.passwords import hash_password, needs_rehash, verify_password
from licensewatch.storage.database import session_scope
from licensewatch.storage.models.accounts import Account, ApiToken, Role, WebSession
from licensewatch.storage.models.base import utcnow
from licensewatch.storage.models.tenants import Tenant

# New API tokens expire unless asked otherwise: a forgotten token in a script or a CI variable
# stops working by itself.
TOKEN_LIFETIME = timedelta(days=90)
MIN_PASSWORD_LENGTH = 12
TOKEN_PREFIX = "lw_"  # noqa: S105 - a public prefix that makes leaked tokens greppable
_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,149}")
# Touching last_seen on every request would turn every page view into a write.
LAST_SEEN_GRANULARITY = timedelta(minutes=1)


@functools.cache
def _dummy_hash() -> str:
    """Verified when the username is unknown, so a miss costs as much time as a wrong password.

    Made on first use: hashing at import cost every CLI command a quarter of a second.
    """
    return hash_password(secrets.token_urlsafe(16))


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


@dataclass(frozen=True, slots=True)
class AccountView:
    """An account as listed (no hash)."""

    username: str
    role: Role
    created_at: datetime
    last_login_at: datetime | None
    disabled: bool


def digest(value: str) -> str:
    """SHA-256 hex of a session id or token: what is stored instead of the value."""
    return hashlib.sha256(value.encode()).hexdigest()


def generate_password() -> str:
    """A strong random password (24 URL-safe characters, ~143 bits)."""
    return secrets.token_urlsafe(18)


def scope_of(role: str, tenant_scope: list[Any] | None) -> frozenset[str] | None:
    """The tenants a role with a stored scope may see (admins: all of them)."""
    if role == Role.ADMIN or tenant_scope is None:
        return None
    return frozenset(str(name) for name in tenant_scope)


def principal_of(account: Account) -> Principal:
    """The caller an account row stands for (role and tenant scope)."""
    scope = scope_of(account.role, account.tenant_scope)
    return Principal(account.id, account.username, Role(account.role), scope)


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
        if revoke_tokens:
            session.execute(_revoke_live().where(ApiToken.account_id == account.id))
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


def account_exists(engine: Engine, username: str) -> bool:
    with session_scope(engine, write=False) as session:
        found = session.scalar(select(Account.id).where(Account.username == username.strip()))
        return found is not None


def count_accounts(engine: Engine) -> int:
    """How many accounts exist (zero means the app still needs its first admin)."""
    with session_scope(engine, write=False) as session:
        return len(session.scalars(select(Account.id)).all())


def authenticate(engine: Engine, username: str, password: str) -> Principal | None:
    """The account when the password matches and it is enabled; None otherwise.

    The hash is checked with no transaction open (it takes ~0.5 s of CPU): on SQLite a held
    write lock made parallel sign-ins fail with "database is locked" and stalled syncs.
    """
    with engine.connect() as connection:
        row = connection.execute(
            select(Account.id, Account.username, Account.role, Account.disabled,
                   Account.password_hash).where(Account.username == username.strip())
        ).first()  # fmt: skip
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


def create_token(
    engine: Engine, username: str, name: str, *, expires_in: timedelta | None = TOKEN_LIFETIME
) -> str:
    """A new personal API token for an account; the value is returned once and never stored.

    It expires after `expires_in` (90 days by default; None: never).
    """
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    with session_scope(engine) as session:
        account = session.scalar(select(Account).where(Account.username == username))
        if account is None:
            raise AccountError(f"no account named {username!r}")
        if account.disabled:
            raise AccountError(f"account {username!r} is disabled")
        session.add(
            ApiToken(
                token_hash=digest(raw),
                account_id=account.id,
                name=name.strip() or "token",
                created_at=now,
                expires_at=now + expires_in if expires_in else None,
            )
        )
    return raw


def resolve_token(engine: Engine, raw: str) -> Principal | None:
    """The account behind a Bearer token, or None (unknown, expired or disabled)."""
    now = utcnow()
    hashed = digest(raw)
    with session_scope(engine, write=False) as session:
        row = session.execute(
            select(ApiToken, Account)
            .join(Account, Account.id == ApiToken.account_id)
            .where(ApiToken.token_hash == hashed)
        ).first()
        if row is None:
            return None
        token, account = row
        if account.disabled or not token_is_live(token.expires_at, token.revoked_at, now):
            return None
        principal = principal_of(account)
        stale = token.last_used_at is None or token.last_used_at + LAST_SEEN_GRANULARITY <= now
    if stale:
        with session_scope(engine) as session:
            session.execute(
                update(ApiToken).where(ApiToken.token_hash == hashed).values(last_used_at=now)
            )
    return principal


def token_is_live(expires_at: datetime | None, revoked_at: datetime | None, now: datetime) -> bool:
    """Neither revoked nor past its expiry."""
    return revoked_at is None and (expires_at is None or expires_at > now)


class TokenState(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"


@dataclass(frozen=True, slots=True)
class TokenView:
    """A token as listed: its id, owner, name and dates, never its value or hash."""

    id: int
    username: str
    name: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None

    @property
    def state(self) -> TokenState:
        if self.revoked_at is not None:
            return TokenState.REVOKED
        if not token_is_live(self.expires_at, None, utcnow()):
            return TokenState.EXPIRED
        return TokenState.ACTIVE


def list_tokens(engine: Engine, username: str | None = None) -> list[TokenView]:
    """An account's API tokens (every account's when None), newest first."""
    query = (
        select(ApiToken, Account.username)
        .join(Account, Account.id == ApiToken.account_id)
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    )
    if username is not None:
        query = query.where(Account.username == username)
    with session_scope(engine, write=False) as session:
        return [
            TokenView(t.id, owner, t.name, t.created_at, t.last_used_at, t.expires_at, t.revoked_at)
            for t, owner in session.execute(query)
        ]


def _revoke_live() -> Update:
    return update(ApiToken).where(ApiToken.revoked_at.is_(None)).values(revoked_at=utcnow())


def revoke_token(engine: Engine, token_id: int, username: str | None = None) -> None:
    """Revokes one token (only if it is `username`'s, when given); refused at once after."""
    with session_scope(engine) as session:
        query = select(ApiToken.id, ApiToken.revoked_at).where(ApiToken.id == token_id)
        if username is not None:
            query = query.join(Account, Account.id == ApiToken.account_id).where(
                Account.username == username
            )
        row = session.execute(query).first()
        if row is None:
            raise AccountError(f"no API token with id {token_id}" + (
                f" for account {username!r}" if username is not None else ""
            ))  # fmt: skip
        session.execute(_revoke_live().where(ApiToken.id == token_id))


def revoke_tokens_of(engine: Engine, username: str) -> int:
    """Revokes every live token of an account; how many were live."""
    with session_scope(engine) as session:
        account_id = session.scalar(select(Account.id).where(Account.username == username))
        if account_id is None:
            raise AccountError(f"no account named {username!r}")
        result = session.execute(_revoke_live().where(ApiToken.account_id == account_id))
        return int(result.rowcount)  # type: ignore[attr-defined]
