"""Who a session cookie or API token belongs to: one indexed Core query per request.

`services.sessions.resolve_session` / `services.accounts.resolve_token` answer the same
question through the ORM (≈ 0.6 ms of CPU each); on every request that was a fixed cost of its
own. This reads the few columns it needs with a statement built once, and hands over to the
service only when the use must be recorded (at most once a minute per session or token), so
there is no cache: deleting, expiring or disabling takes effect on the very next request.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, Row, bindparam, select

from licensewatch.services.accounts import (
    LAST_SEEN_GRANULARITY,
    Principal,
    digest,
    resolve_token,
    scope_of,
    token_is_live,
)
from licensewatch.services.sessions import SessionView, resolve_session
from licensewatch.storage.models.accounts import Account, ApiToken, Role, WebSession
from licensewatch.storage.models.base import utcnow

_TOKEN = (
    select(
        ApiToken.expires_at,
        ApiToken.revoked_at,
        ApiToken.last_used_at,
        Account.id,
        Account.username,
        Account.role,
        Account.disabled,
        Account.tenant_scope,
    )
    .join(Account, Account.id == ApiToken.account_id)
    .where(ApiToken.token_hash == bindparam("digest"))
)
_SESSION = (
    select(
        WebSession.expires_at,
        WebSession.last_seen_at,
        WebSession.csrf_secret,
        Account.id,
        Account.username,
        Account.role,
        Account.disabled,
        Account.tenant_scope,
    )
    .join(Account, Account.id == WebSession.account_id)
    .where(WebSession.id_hash == bindparam("digest"))
)


def _lookup(
    engine: Engine, statement: Any, raw: str, connection: Connection | None
) -> Row[Any] | None:
    """The statement's row for the credential: on the request's own connection when it has one
    (a twin route reads with the same connection: one pool checkout and one BEGIN, not two)."""
    if connection is not None:
        return connection.execute(statement, {"digest": digest(raw)}).first()
    with engine.connect() as own:
        return own.execute(statement, {"digest": digest(raw)}).first()


def token_principal(
    engine: Engine, raw: str, connection: Connection | None = None
) -> Principal | None:
    """The account behind a Bearer token, or None (unknown, expired, revoked or disabled)."""
    now = utcnow()
    row = _lookup(engine, _TOKEN, raw, connection)
    if row is None or row.disabled or not token_is_live(row.expires_at, row.revoked_at, now):
        return None
    if row.last_used_at is None or row.last_used_at + LAST_SEEN_GRANULARITY <= now:
        return resolve_token(engine, raw)  # checks again and records the use
    return Principal(row.id, row.username, Role(row.role), scope_of(row.role, row.tenant_scope))


def session_view(
    engine: Engine, raw: str, connection: Connection | None = None
) -> SessionView | None:
    """The live session of a cookie value, or None (unknown, expired or disabled account)."""
    now = utcnow()
    row = _lookup(engine, _SESSION, raw, connection)
    if row is None or row.disabled or row.expires_at <= now:
        return None
    if row.last_seen_at + LAST_SEEN_GRANULARITY <= now:
        return resolve_session(engine, raw)  # checks again and records the use
    principal = Principal(
        row.id, row.username, Role(row.role), scope_of(row.role, row.tenant_scope)
    )
    return SessionView(principal, row.csrf_secret)
