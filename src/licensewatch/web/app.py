"""The web app factory: pages, REST API, static files, security headers and error pages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from licensewatch import __version__
from licensewatch.services.sign_in import SignInLimits, SignInThrottle
from licensewatch.settings import Settings
from licensewatch.storage.database import Pooling, make_engine
from licensewatch.web import api, pages
from licensewatch.web.acting import ActingMiddleware
from licensewatch.web.api import intelligence as intelligence_api
from licensewatch.web.auth import Caller, LoginRequired, session_caller
from licensewatch.web.background import (
    EmbeddedDaemon,
    SyncFunction,
    SyncLauncher,
    run_tenant_sync,
)
from licensewatch.web.context import AppContext
from licensewatch.web.heap import settle_heap
from licensewatch.web.pages import findings as findings_pages
from licensewatch.web.pages import intelligence as intelligence_pages
from licensewatch.web.queries.keyset import BadCursor
from licensewatch.web.resources import RESOURCES
from licensewatch.web.security import SecurityHeadersMiddleware, add_security_headers
from licensewatch.web.templating import compile_templates, render
from licensewatch.web.timing import ServerTimingMiddleware
from licensewatch.web.twins import JSON_SUFFIX, api_router, page_router
from licensewatch.web.warm_up import warm_up

STATIC = Path(__file__).parent / "static"
# A worker's connections: 4 MiB of SQLite page cache each instead of a sync's 40 MiB (the
# operating system caches the file too); 15 connections × 40 MiB could hold 600 MB in one worker.
WEB_POOLING = Pooling(cache_kib=4_096, size=5, overflow=10)


def create_app(
    settings: Settings,
    *,
    engine: Engine | None = None,
    sync: SyncFunction = run_tenant_sync,
    with_daemon: bool = False,
    freeze_heap: bool = False,
) -> FastAPI:
    """A new app over the settings' database (migrated on first use).

    `freeze_heap`: a serving process's garbage-collector settings once started (web/heap.py);
    process-wide, so not for apps that tests create and drop by the dozen.
    """
    engine = engine or make_engine(settings.database_url, pooling=WEB_POOLING)
    context = AppContext(
        settings=settings,
        engine=engine,
        throttle=SignInThrottle(engine, sign_in_limits(settings)),
        launcher=SyncLauncher(engine, settings, sync),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        compile_templates()
        await warm_up(app, engine)  # what a worker's first request would pay for (warm_up.py)
        if freeze_heap:
            settle_heap()  # after everything start-up builds, the warm-up included
        daemon = EmbeddedDaemon(engine, settings) if with_daemon else None
        if daemon is not None:
            daemon.start()
        yield
        if daemon is not None:
            daemon.stop()

    app = FastAPI(
        title="licensewatch",
        version=__version__,
        description="Microsoft 365 licence balance. Authenticate with "
        "`Authorization: Bearer <token>` (create one on your account page or with "
        "`licensewatch token create`).",
        openapi_url="/api/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.lw = context
    app.add_middleware(ActingMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
    # Added last, so it is outermost: its figure includes the other middleware and error pages.
    app.add_middleware(ServerTimingMiddleware)
    if settings.trusted_proxy_list:
        # Outermost of all: every part of the app sees the real client and scheme, and only
        # when the TCP peer is a configured proxy (anyone else could write X-Forwarded-For).
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxy_list)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    # The OpenAPI document (and /api/docs) describes the REST API only, not the HTML forms.
    # The twins first: a page's `/x/{id}.json` must not reach another module's `/x/{id}`.
    app.include_router(page_router(RESOURCES), include_in_schema=False)
    app.include_router(pages.router, include_in_schema=False)
    app.include_router(api_router(RESOURCES))
    app.include_router(api.router)
    app.include_router(intelligence_pages.router, include_in_schema=False)
    app.include_router(findings_pages.router, include_in_schema=False)
    app.include_router(intelligence_api.router)
    _add_error_handlers(app)
    return app


def sign_in_limits(settings: Settings) -> SignInLimits:
    return SignInLimits(
        window=timedelta(minutes=settings.sign_in_window_minutes),
        per_account_source=settings.sign_in_limit_account_source,
        per_account=settings.sign_in_limit_account,
        per_source=settings.sign_in_limit_source,
        total=settings.sign_in_limit_total,
    )


def _wants_json(request: Request) -> bool:
    """The API and the pages' `.json` twins answer errors in JSON."""
    path = request.url.path
    return path.startswith("/api/") or path.endswith(JSON_SUFFIX)


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, _exc: LoginRequired) -> Response:
        if _wants_json(request):  # a script reading a page's `.json`: no sign-in form
            return JSONResponse({"detail": "sign in first (a session cookie)"}, 401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", 303)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": exc.detail}, exc.status_code, headers=exc.headers)
        return _error_page(request, exc.status_code, str(exc.detail))

    @app.exception_handler(Exception)
    async def server_error(request: Request, _exc: Exception) -> Response:
        # Starlette answers unhandled errors outside every middleware: the security headers
        # are added here. No detail and no database lookup (the database may be the cause).
        response: Response
        if _wants_json(request):
            response = JSONResponse({"detail": "internal server error"}, 500)
        else:
            response = PlainTextResponse(
                "Internal server error. The cause is in the server's log.", 500
            )
        add_security_headers(response.headers, request.scope)
        return response

    @app.exception_handler(BadCursor)
    async def bad_cursor(request: Request, exc: BadCursor) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": str(exc)}, 422)
        return _error_page(request, 422, str(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        if _wants_json(request):
            errors = [{"loc": e["loc"], "msg": e["msg"]} for e in exc.errors()]
            return JSONResponse({"detail": errors}, 422)
        return _error_page(request, 422, "Some of the request's values are not valid.")


def _error_page(request: Request, status_code: int, message: str) -> Response:
    # The caller lookup touches the database: run it only for real pages, not for missing files.
    caller = None if request.url.path.startswith("/static/") else _quiet_caller(request)
    return render(
        request, "error.html", caller, status_code=status_code, status=status_code, message=message
    )


def _quiet_caller(request: Request) -> Caller | None:
    try:
        return session_caller(request)
    except Exception:
        return None
