"""Local receivers for alert tests: an aiosmtpd SMTP server and a tiny webhook HTTP server."""

from __future__ import annotations

import email
import email.policy
import json
import logging
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

ALLOW_PRIVATE = "LICENSEWATCH_ALLOW_PRIVATE_WEBHOOKS"
# aiosmtpd logs each dropped connection at INFO from its own thread; a CLI test's log handler may
# point at a stream already closed by then ("--- Logging error ---" noise in the run's output).
logging.getLogger("mail.log").setLevel(logging.WARNING)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Mailbox:
    """Messages the local SMTP server accepted."""

    port: int
    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 OK"


@contextmanager
def smtp_server() -> Iterator[Mailbox]:
    mailbox = Mailbox(free_port())
    controller = Controller(mailbox, hostname="127.0.0.1", port=mailbox.port)
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()


@dataclass
class Hook:
    """Requests the local webhook receiver got; `status` is what it answers."""

    url: str = ""
    status: int = 200
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    def payloads(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.requests]


@contextmanager
def allow_private_webhooks() -> Iterator[None]:
    """The documented opt-in for receivers on one's own network: ours listen on 127.0.0.1."""
    previous = os.environ.get(ALLOW_PRIVATE)
    os.environ[ALLOW_PRIVATE] = "true"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(ALLOW_PRIVATE, None)
        else:
            os.environ[ALLOW_PRIVATE] = previous


@contextmanager
def webhook_server(*, allow_private: bool = True) -> Iterator[Hook]:
    """A receiver on 127.0.0.1; by default with the opt-in that lets licensewatch deliver to it."""
    hook = Hook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            hook.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(hook.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    hook.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/licensewatch"
    try:
        if allow_private:
            with allow_private_webhooks():
                yield hook
        else:
            yield hook
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
