"""The sign-in throttle: per account, per source, per pair and in total, shared in the database.

Every password check is written down *before* the hash is computed (one short write), then the
counts are read again: whatever arrives in parallel, at most the limit's number of checks run
per window, and a refused attempt costs one indexed read and no hashing. The rows live in the
database so that every `serve` process (and `serve --workers N`) shares the same limits.
A successful sign-in removes its own row and the failures of that account from that source.
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import Engine, and_, delete, insert, select

from licensewatch.services.audit import append
from licensewatch.storage.database import write_transaction
from licensewatch.storage.models.accounts import SignInAttempt
from licensewatch.storage.models.base import utcnow

_KEY_LENGTH = 150
_SOURCE_LENGTH = 64
# Argon2 checks running at once in this process: more only slows every one of them down and
# starves the page requests of CPU (each check is ~0.5 s of one core).
CONCURRENT_CHECKS = 2


class Scope(StrEnum):
    """Which limit refused an attempt (and so what the message tells the person)."""

    ACCOUNT_SOURCE = "account_source"
    ACCOUNT = "account"
    SOURCE = "source"
    TOTAL = "total"


@dataclass(frozen=True, slots=True)
class SignInLimits:
    """Failed (or still running) password checks allowed per window."""

    window: timedelta = timedelta(minutes=15)
    per_account_source: int = 5  # one person mistyping from one place
    per_account: int = 10  # one account guessed from many places
    per_source: int = 20  # password spraying: many usernames from one place
    total: int = 100  # spraying from many places; also bounds the CPU spent on hashing


@dataclass(frozen=True, slots=True)
class Refused:
    """Not checked: which limit, and in how many seconds an attempt may succeed it."""

    scope: Scope
    retry_after: int


def account_key(username: str) -> str:
    """How attempts on one account are grouped, whether or not the account exists."""
    return username.strip().lower()[:_KEY_LENGTH]


def source_key(address: str) -> str:
    """A client address as counted: IPv6 clients by /64 (one host usually holds a whole /64)."""
    try:
        parsed = ipaddress.ip_address(address.strip())
    except ValueError:
        return address.strip()[:_SOURCE_LENGTH] or "unknown"
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{parsed}/64", strict=False))
    return str(parsed)


class SignInThrottle:
    """One per app; holds no counts itself (they are rows), only the limits and a CPU gate."""

    def __init__(
        self,
        engine: Engine,
        limits: SignInLimits | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.engine = engine
        self.limits = limits or SignInLimits()
        self._clock = clock
        self.checks = threading.BoundedSemaphore(CONCURRENT_CHECKS)

    def _refusal(self, account: str, source: str, now: datetime, pending: int) -> Refused | None:
        """Reads the window's attempts (bounded by the total limit) and applies every limit.

        `pending` counts attempts not yet written: 1 before our row is inserted, 0 after.
        """
        limits = self.limits
        query = select(SignInAttempt.at, SignInAttempt.account_key, SignInAttempt.source).where(
            SignInAttempt.at > now - limits.window
        )
        with self.engine.connect() as connection:
            rows = connection.execute(query).all()
        mine = [r for r in rows if r.account_key == account]
        scopes = (
            (
                Scope.ACCOUNT_SOURCE,
                limits.per_account_source,
                [r.at for r in mine if r.source == source],
            ),
            (Scope.ACCOUNT, limits.per_account, [r.at for r in mine]),
            (Scope.SOURCE, limits.per_source, [r.at for r in rows if r.source == source]),
            (Scope.TOTAL, limits.total, [r.at for r in rows]),
        )
        for scope, limit, stamps in scopes:
            if len(stamps) + pending > limit:
                # Allowed again once enough of the oldest attempts have left the window.
                stamps.sort()
                frees_at = stamps[len(stamps) - (limit - pending) - 1] + limits.window
                return Refused(scope, max(1, int((frees_at - now).total_seconds()) + 1))
        return None

    def begin(self, username: str, address: str) -> int | Refused:
        """Records an attempt about to be checked (its id), or refuses it without a hash."""
        account, source = account_key(username), source_key(address)
        now = self._clock()
        early = self._refusal(account, source, now, pending=1)
        if early is not None:
            return early
        with write_transaction(self.engine) as connection:
            # Sweep what left the window while at it: the table stays as small as the limits.
            connection.execute(
                delete(SignInAttempt).where(SignInAttempt.at <= now - self.limits.window)
            )
            attempt_id = connection.execute(
                insert(SignInAttempt)
                .values(at=now, account_key=account, source=source)
                .returning(SignInAttempt.id)
            ).scalar_one()
        # Counted again after our row is committed: of attempts racing in parallel, each sees
        # at least those committed before it, so no more than the limit get through.
        late = self._refusal(account, source, now, pending=0)
        if late is not None:
            self._forget(attempt_id)
            return late
        return attempt_id

    def succeeded(self, attempt_id: int, username: str, address: str) -> None:
        """A correct password: its attempt and that account's failures from that source go."""
        account, source = account_key(username), source_key(address)
        with write_transaction(self.engine) as connection:
            connection.execute(
                delete(SignInAttempt).where(
                    (SignInAttempt.id == attempt_id)
                    | and_(SignInAttempt.account_key == account, SignInAttempt.source == source)
                )
            )

    def _forget(self, attempt_id: int) -> None:
        with write_transaction(self.engine) as connection:
            connection.execute(delete(SignInAttempt).where(SignInAttempt.id == attempt_id))

    def clear_account(self, username: str) -> None:
        """Forgets every recorded failure of an account (an administrator's unlock)."""
        with write_transaction(self.engine) as connection:
            connection.execute(
                delete(SignInAttempt).where(SignInAttempt.account_key == account_key(username))
            )
            append(connection, "account.unlocked", {"account": username})
