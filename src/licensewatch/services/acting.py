"""Who is acting, for the audit log: a web request's caller and address, or the CLI's OS user."""

from __future__ import annotations

import getpass
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(slots=True)
class Acting:
    """Mutable on purpose: a web request's slot is made before its caller is known.

    FastAPI runs sync dependencies and handlers in worker threads, each in a *copy* of the
    request's context: a value set there would not reach the handler, but a field filled in
    on the one object the copies share does.
    """

    name: str | None = None
    address: str | None = None


_current: ContextVar[Acting | None] = ContextVar("licensewatch_acting", default=None)


@contextmanager
def acting_as(name: str | None = None, address: str | None = None) -> Iterator[Acting]:
    """Every audit event recorded inside names this actor (until filled in otherwise)."""
    acting = Acting(name, address)
    token = _current.set(acting)
    try:
        yield acting
    finally:
        _current.reset(token)


def current() -> Acting:
    """The actor of this request or command; an empty one outside both (tests, the daemon)."""
    return _current.get() or Acting()


def cli_user() -> str:
    """`cli:<OS user>`: the CLI has no account, the machine's login says who ran it."""
    try:
        user = getpass.getuser()
    except Exception:  # no USER/LOGNAME and no passwd entry (a bare container)
        user = "unknown"
    return f"cli:{user}"


def cli_host() -> str:
    """The machine a command ran on: several hosts may share one PostgreSQL database."""
    return socket.gethostname() or "localhost"
