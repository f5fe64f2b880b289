"""Personal API tokens: create (shown once, only a digest kept), resolve, list, revoke."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import Engine, Update, select, update

from licensewatch.services.audit import DetailValue, append
from licensewatch.services.principals import (
    LAST_SEEN_GRANULARITY,
    AccountError,
    Principal,
    digest,
    principal_of,
)
from licensewatch.storage.database import session_scope
from licensewatch.storage.models.accounts import Account, ApiToken
from licensewatch.storage.models.base import utcnow

# New API tokens expire unless asked otherwise: a forgotten token in a script or a CI variable
# stops working by itself.
TOKEN_LIFETIME = timedelta(days=90)
TOKEN_PREFIX = "lw_"  # noqa: S105 - a public prefix that makes leaked tokens greppable


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
        token = ApiToken(
            token_hash=digest(raw),
            account_id=account.id,
            name=name.strip() or "token",
            created_at=now,
            expires_at=now + expires_in if expires_in else None,
        )
        session.add(token)
        session.flush()
        expires = token.expires_at.date().isoformat() if token.expires_at else "never"
        detail: dict[str, DetailValue] = {"account": username, "token_id": token.id}
        append(session, "token.created", {**detail, "name": token.name, "expires": expires})
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


def revoke_live_tokens() -> Update:
    """An UPDATE marking live tokens revoked now; the caller narrows it with `.where`."""
    return update(ApiToken).where(ApiToken.revoked_at.is_(None)).values(revoked_at=utcnow())


def revoke_token(engine: Engine, token_id: int, username: str | None = None) -> None:
    """Revokes one token (only if it is `username`'s, when given); refused at once after."""
    query = (
        select(Account.username, ApiToken.name, ApiToken.revoked_at)
        .join(Account, Account.id == ApiToken.account_id)
        .where(ApiToken.id == token_id)
    )
    if username is not None:
        query = query.where(Account.username == username)
    with session_scope(engine) as session:
        row = session.execute(query).first()
        if row is None:
            whose = f" for account {username!r}" if username is not None else ""
            raise AccountError(f"no API token with id {token_id}{whose}")
        session.execute(revoke_live_tokens().where(ApiToken.id == token_id))
        detail: dict[str, DetailValue] = {"account": row.username, "token_id": token_id}
        detail["name"] = row.name
        append(session, "token.revoked", {**detail, "was_live": row.revoked_at is None})


def revoke_tokens_of(engine: Engine, username: str) -> int:
    """Revokes every live token of an account; how many were live."""
    with session_scope(engine) as session:
        account_id = session.scalar(select(Account.id).where(Account.username == username))
        if account_id is None:
            raise AccountError(f"no account named {username!r}")
        result = session.execute(revoke_live_tokens().where(ApiToken.account_id == account_id))
        count = int(result.rowcount)  # type: ignore[attr-defined]
        append(session, "token.revoked_all", {"account": username, "count": count})
        return count
