"""`/metrics` (prometheus_client's exposition) and `/healthz` (JSON) of a daemon or worker."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, make_wsgi_app

log = logging.getLogger(__name__)

HealthCheck = Callable[[], tuple[bool, dict[str, Any]]]
StartResponse = Callable[..., Any]


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        log.debug("metrics server: " + format, *args)


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    """One thread per request: a slow scraper never holds up the health check."""

    daemon_threads = True


def _app(registry: CollectorRegistry, health: HealthCheck) -> Callable[..., Iterable[bytes]]:
    metrics = make_wsgi_app(registry)  # content negotiation (OpenMetrics), gzip, ?name[]=

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/metrics":
            return metrics(environ, start_response)  # type: ignore[no-any-return]
        if path in ("/healthz", "/health"):
            healthy, details = health()
            status = "200 OK" if healthy else "503 Service Unavailable"
            return _send(start_response, status, "application/json", json.dumps(details).encode())
        body = b"not found: try /metrics or /healthz\n"
        return _send(start_response, "404 Not Found", "text/plain; charset=utf-8", body)

    return app


def _send(start_response: StartResponse, status: str, kind: str, body: bytes) -> list[bytes]:
    headers = [("Content-Type", kind), ("Content-Length", str(len(body)))]
    start_response(status, [*headers, ("Cache-Control", "no-store")])
    return [body]


class MetricsServer:
    """Serves until `close()`; `port` is the bound port (ask for 0 to get a free one)."""

    def __init__(
        self, host: str, port: int, registry: CollectorRegistry, health: HealthCheck
    ) -> None:
        self._server = make_server(
            host, port, _app(registry, health), _ThreadingServer, handler_class=_Quiet
        )
        self.host = host
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="licensewatch-metrics", daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
