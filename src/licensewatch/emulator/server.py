"""Runs the emulator over HTTPS (uvicorn), in the foreground or a thread; writes its info file."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

import uvicorn
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from starlette.types import ASGIApp

from licensewatch.emulator import certs
from licensewatch.emulator.app import create_app
from licensewatch.emulator.options import EmulatorOptions
from licensewatch.emulator.state import Tenant, World, utcnow

LOOPBACK = ("127.0.0.1", "localhost", "::1")
WILDCARDS = frozenset({"0.0.0.0", "::", ""})  # noqa: S104 - names, not binds
STARTUP_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class TlsFiles:
    ca_bundle: Path
    certfile: Path
    keyfile: Path


def _write_atomically(path: Path, data: bytes, mode: int = 0o644) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def _server_hosts(host: str) -> tuple[str, ...]:
    extra = () if host in WILDCARDS or host in LOOPBACK else (host,)
    return LOOPBACK + extra


def _reusable(cert_path: Path, ca_cert: x509.Certificate, hosts: tuple[str, ...]) -> bool:
    """A server certificate from an earlier run is kept if this CA issued it and it still fits."""
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        cert.verify_directly_issued_by(ca_cert)
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (OSError, ValueError, TypeError, x509.ExtensionNotFound, InvalidSignature):
        return False
    names = {str(v) for v in san.get_values_for_type(x509.IPAddress)}
    names |= set(san.get_values_for_type(x509.DNSName))
    fresh = cert.not_valid_after_utc > dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    return fresh and all(h in names or h.strip("[]") in names for h in hosts)


def ensure_tls(cert_dir: Path, host: str = "127.0.0.1") -> TlsFiles:
    """The CA and server certificate in cert_dir, made on first use and reused afterwards."""
    cert_dir.mkdir(parents=True, exist_ok=True)
    files = TlsFiles(
        cert_dir / "emulator-ca.pem",
        cert_dir / "emulator-server.pem",
        cert_dir / "emulator-server.key",
    )
    ca_key = cert_dir / "emulator-ca.key"
    try:
        ca = certs.KeyPair(files.ca_bundle.read_bytes(), ca_key.read_bytes())
        ca_cert = ca.certificate
    except (OSError, ValueError):
        ca = certs.make_ca()
        ca_cert = ca.certificate
        _write_atomically(ca_key, ca.private_key_pem, 0o600)
        _write_atomically(files.ca_bundle, ca.certificate_pem)
    hosts = _server_hosts(host)
    if not (files.keyfile.exists() and _reusable(files.certfile, ca_cert, hosts)):
        server = certs.make_server_certificate(ca, hosts)
        _write_atomically(files.keyfile, server.private_key_pem, 0o600)
        _write_atomically(files.certfile, server.certificate_pem)
    return files


def _url_host(host: str) -> str:
    if host in WILDCARDS:
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def _tenant_info(tenant: Tenant) -> dict[str, Any]:
    """How to sign in to one tenant: its first app with a working secret (and certificate)."""
    now = utcnow()
    apps = list(tenant.apps.values())
    app = next((a for a in apps if any(s.expires > now for s in a.secrets)), None)
    app = app or (apps[0] if apps else None)
    secret = cert_path = key_path = thumbprint = None
    if app is not None:
        secret = next((s.value for s in app.secrets if s.expires > now), None)
        for cert in app.certificates:
            if cert.expires > now and cert.certificate_path and cert.private_key_path:
                cert_path = str(Path(cert.certificate_path).resolve())
                key_path = str(Path(cert.private_key_path).resolve())
                thumbprint = cert.thumbprint_sha1
                break
    return {
        "tenant_id": tenant.tenant_id,
        "domain": tenant.domain,
        "client_id": app.client_id if app else None,
        "client_secret": secret,
        "certificate": cert_path,
        "private_key": key_path,
        "thumbprint": thumbprint,
        "users": tenant.user_count(),
    }


def emulator_info(world: World, base_url: str, ca_bundle: Path) -> dict[str, Any]:
    """The info file: where the emulator listens, the CA to trust, and tenant credentials."""
    return {
        "authority_host": base_url,
        "graph_endpoint": base_url,
        "ca_bundle": str(ca_bundle.resolve()),
        "tenants": [_tenant_info(t) for t in world.tenants.values()],
    }


def write_info_file(path: Path, info: dict[str, Any]) -> None:
    """Atomic, so a watcher never reads half a file; 0600 because it holds a client secret."""
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_atomically(path, json.dumps(info, indent=2).encode() + b"\n", 0o600)


def _uvicorn_server(app: ASGIApp, host: str, port: int, tls: TlsFiles) -> uvicorn.Server:
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        ssl_certfile=str(tls.certfile),
        ssl_keyfile=str(tls.keyfile),
        log_level="warning",
        lifespan="off",
        access_log=False,
    )
    return uvicorn.Server(config)


def _bound_port(server: uvicorn.Server) -> int:
    port: int = server.servers[0].sockets[0].getsockname()[1]
    return port


async def _run_until_stopped(server: uvicorn.Server, on_started: Callable[[int], None]) -> None:
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            await task  # re-raises the startup failure
            raise RuntimeError("the emulator stopped before it was ready")
        await asyncio.sleep(0.01)
    on_started(_bound_port(server))
    await task


def serve(
    world: World,
    options: EmulatorOptions,
    host: str,
    port: int,
    cert_dir: Path,
    info_file: Path | None,
    *,
    on_ready: Callable[[dict[str, Any]], None] | None = None,
) -> None:
    """Serve the whole emulator until SIGTERM or SIGINT, then shut down gracefully and return."""
    tls = ensure_tls(cert_dir, host)
    server = _uvicorn_server(create_app(world, options), host, port, tls)

    def started(bound: int) -> None:
        info = emulator_info(world, f"https://{_url_host(host)}:{bound}", tls.ca_bundle)
        if info_file is not None:
            write_info_file(info_file, info)
        if on_ready is not None:
            on_ready(info)

    # uvicorn re-raises the signal that stopped it once it has shut down; these no-op handlers make
    # that re-raise harmless, so `serve` returns normally and the process exits with status 0.
    def ignore(signum: int, frame: FrameType | None) -> None:
        return None

    previous = {sig: signal.signal(sig, ignore) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        asyncio.run(_run_until_stopped(server, started))
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if info_file is not None:
            info_file.unlink(missing_ok=True)  # a stale file would point clients at a dead port


class RunningEmulator:
    """An emulator served over TLS from a background thread with its own event loop."""

    def __init__(self, world: World, app: ASGIApp, host: str, tls: TlsFiles) -> None:
        self.world = world
        self.app = app
        self.ca_bundle = tls.ca_bundle
        self._server = _uvicorn_server(app, host, 0, tls)
        self._host = host
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._port = 0
        self._thread = threading.Thread(target=self._run, name="licensewatch-emulator", daemon=True)
        self.base_url = ""
        self.info: dict[str, Any] = {}

    def _run(self) -> None:
        def started(port: int) -> None:
            self._port = port
            self._ready.set()

        try:
            asyncio.run(_run_until_stopped(self._server, started))
        except BaseException as exc:  # reported to start(), incl. SystemExit
            self._error = exc
        finally:
            self._ready.set()

    def start(self) -> RunningEmulator:
        self._thread.start()
        if (
            not self._ready.wait(STARTUP_TIMEOUT_SECONDS)
            or self._error is not None
            or not self._port
        ):
            self.stop()
            raise RuntimeError(f"the emulator did not start: {self._error!r}")
        self.base_url = f"https://{_url_host(self._host)}:{self._port}"
        self.info = emulator_info(self.world, self.base_url, self.ca_bundle)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=STARTUP_TIMEOUT_SECONDS)

    def __enter__(self) -> RunningEmulator:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_in_thread(
    world: World,
    options: EmulatorOptions | None = None,
    *,
    host: str = "127.0.0.1",
    cert_dir: Path,
    app: ASGIApp | None = None,
) -> RunningEmulator:
    """Start an emulator on a free port; `app` replaces the full app (tests of one route family)."""
    if app is None:
        app = create_app(world, options or EmulatorOptions())
    return RunningEmulator(world, app, host, ensure_tls(cert_dir, host)).start()
