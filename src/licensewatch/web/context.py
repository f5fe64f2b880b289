"""What the app holds while it runs (engine, settings, throttle, launcher) and how routes get it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from fastapi import Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from licensewatch.services.sign_in import SignInThrottle
from licensewatch.settings import Settings
from licensewatch.storage.database import session_scope
from licensewatch.web.background import SyncLauncher
from licensewatch.web.queries.common import SCOPE_KEY


@dataclass
class AppContext:
    """One per app instance (no module-level state: tests run several apps side by side)."""

    settings: Settings
    engine: Engine
    throttle: SignInThrottle
    launcher: SyncLauncher


def caller_scope(request: Request) -> frozenset[str] | None:
    """The tenants the request's caller may see (None: all, or no caller yet)."""
    caller = getattr(request.state, "caller", None)
    return None if caller is None else caller.principal.tenants


def app_context(request: Request) -> AppContext:
    context: AppContext = request.app.state.lw
    return context


def engine_of(request: Request) -> Engine:
    return app_context(request).engine


def reader(request: Request) -> Iterator[Session]:
    """A read-only session seeing one snapshot for the whole request, within the caller's scope."""
    with read_session(request) as session:
        yield session


@contextmanager
def read_session(request: Request) -> Iterator[Session]:
    """The session of `reader`, for a route that opens it itself (web/twins.py)."""
    with session_scope(engine_of(request), write=False) as session:
        # Read when a query first needs it: by then the route's caller dependency has run.
        session.info[SCOPE_KEY] = lambda: caller_scope(request)
        yield session
