"""`licensewatch serve`: one process, or several uvicorn workers over one database."""

from __future__ import annotations

import os

from fastapi import FastAPI

from licensewatch.settings import load_settings
from licensewatch.storage.database import make_engine

WORKER_HEALTHCHECK_SECONDS = 60


def default_workers() -> int:
    """The CPU count (what `serve --workers` defaults to)."""
    return os.cpu_count() or 1


def worker_app() -> FastAPI:
    """The app of one worker process (uvicorn's factory): never the daemon, the parent runs it."""
    from licensewatch.logging_setup import configure_logging
    from licensewatch.web import create_app

    settings = load_settings()
    configure_logging(settings)  # a spawned process: "Sync now" threads log like the parent
    return create_app(settings, with_daemon=False, freeze_heap=True)


def run(host: str, port: int, *, workers: int, with_daemon: bool) -> None:
    """Serve until stopped; with `with_daemon` the daemon runs once, in this process."""
    import uvicorn

    from licensewatch.logging_setup import configure_logging
    from licensewatch.web.background import EmbeddedDaemon

    settings = load_settings()
    configure_logging(settings)
    # Migrate once here, before any worker starts: N workers upgrading one database would race.
    engine = make_engine(settings.database_url)
    # The app trusts X-Forwarded-* only from LICENSEWATCH_TRUSTED_PROXIES (uvicorn's own
    # default would trust 127.0.0.1, so anyone on the host could pick their address).
    if workers <= 1:
        from licensewatch.web.app import WEB_POOLING, create_app

        engine.dispose()  # migrated: serve with a web worker's pool
        engine = make_engine(settings.database_url, upgrade=False, pooling=WEB_POOLING)
        app = create_app(settings, engine=engine, with_daemon=with_daemon, freeze_heap=True)
        uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=False)
        return
    # Workers are spawned processes sharing the listening socket; sessions, CSRF secrets, the
    # sign-in throttle, SSO pending sign-ins and sync leases all live in the database, so any
    # worker may answer any request. The daemon is one thread of this supervising process.
    daemon = EmbeddedDaemon(engine, settings) if with_daemon else None
    if daemon is not None:
        daemon.start()
    try:
        uvicorn.run(
            "licensewatch.web.serve:worker_app",
            factory=True,
            workers=workers,
            host=host,
            port=port,
            log_level="warning",
            proxy_headers=False,
            # A worker imports the app and opens its pool before it answers uvicorn's health
            # check; on a busy host that took more than uvicorn's 5 s, and SIGHUP then kept the
            # old worker ("not ready in time") or a hung-looking one was killed mid-request.
            timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
        )
    finally:
        if daemon is not None:
            daemon.stop()
        engine.dispose()
