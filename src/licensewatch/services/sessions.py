"""Browser sessions of the web app: started at sign-in, looked up per request, ended at sign-out."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine, delete, select, update

from licensewatch.services.accounts import LAST_SEEN_GRANULARITY, Principal, digest, principal_of
from licensewatch.storage.database import session_scope
from licensewatch.storage.models.accounts import Account, WebSession
from licensewatch.storage.models.base import utcnow

SESSION_LIFETIME = timedelta(hours=12)


@dataclass(frozen=True, slots=True)
class SessionView:
    """A live browser session: who, and the secret its CSRF tokens derive from."""

    principal: Principal
    csrf_secret: str


def start_session(engine: Engine, principal: Principal) -> str:
    """A fresh session id (a new one at every sign-in: no fixation); only its hash is stored."""
    raw = secrets.token_urlsafe(32)
    now = utcnow()
    with session_scope(engine) as session:
        session.add(
            WebSession(
                id_hash=digest(raw),
                account_id=principal.account_id,
                created_at=now,
                expires_at=now + SESSION_LIFETIME,
                last_seen_at=now,
                csrf_secret=secrets.token_hex(32),
            )
        )
    return raw


def resolve_session(engine: Engine, raw: str) -> SessionView | None:
    """The live session for a cookie value, or None (unknown, expired or disabled account)."""
    now = utcnow()
    with session_scope(engine, write=False) as session:
        row = session.execute(
            select(WebSession, Account)
            .join(Account, Account.id == WebSession.account_id)
            .where(WebSession.id_hash == digest(raw))
        ).first()
        if row is None:
            return None
        web_session, account = row
        if web_session.expires_at <= now or account.disabled:
            return None
        view = SessionView(principal_of(account), web_session.csrf_secret)
        stale = web_session.last_seen_at + LAST_SEEN_GRANULARITY <= now
    if stale:
        with session_scope(engine) as session:
            session.execute(
                update(WebSession).where(WebSession.id_hash == digest(raw)).values(last_seen_at=now)
            )
    return view


def end_session(engine: Engine, raw: str) -> None:
    """Signs a browser out (and sweeps expired sessions while at it)."""
    with session_scope(engine) as session:
        session.execute(delete(WebSession).where(WebSession.id_hash == digest(raw)))
        session.execute(delete(WebSession).where(WebSession.expires_at <= utcnow()))
