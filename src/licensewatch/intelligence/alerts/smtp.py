"""E-mail delivery through SMTP (STARTTLS, implicit TLS, or plain for a local relay)."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from enum import StrEnum

from licensewatch.intelligence.alerts.webhook import DeliveryError
from licensewatch.security.outbound import loopback_addresses

TIMEOUT_SECONDS = 30.0


class SmtpSecurity(StrEnum):
    STARTTLS = "starttls"
    TLS = "tls"
    NONE = "none"  # only for a relay on the same host (or with LICENSEWATCH_ALLOW_PLAINTEXT_SMTP)


class PlaintextRefused(ValueError):
    """An SMTP setup would send mail (or a password) in clear over the network."""


@dataclass(frozen=True)
class SmtpServer:
    """Where and how to send; the password comes decrypted from the destination's secret."""

    host: str
    port: int
    sender: str
    security: SmtpSecurity = SmtpSecurity.STARTTLS
    username: str | None = None
    password: str | None = None
    ca_bundle: str | None = None

    def context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.ca_bundle)

    def check_security(self, *, allow_plaintext: bool) -> str:
        """Refuses `security none` to another host (unless opted in) and AUTH in clear, ever.

        Returns the host to connect to: for plaintext to a loopback relay, the very loopback
        address that was checked (a name cannot resolve elsewhere in between).
        """
        if self.security != SmtpSecurity.NONE:
            return self.host
        local = loopback_addresses(self.host)
        if local:
            return local[0]
        if self.username:
            raise PlaintextRefused(
                f"refusing to send the SMTP password to {self.host} in clear (security none): "
                "use --smtp-security starttls or tls"
            )
        if not allow_plaintext:
            raise PlaintextRefused(
                f"--smtp-security none sends mail to {self.host} unencrypted; it is only for a "
                "relay on this host (localhost): use starttls or tls, or set "
                "LICENSEWATCH_ALLOW_PLAINTEXT_SMTP=true for a trusted network"
            )
        return self.host


def message(
    server: SmtpServer,
    recipients: Sequence[str],
    subject: str,
    text: str,
    html: str | None = None,
    attachments: Sequence[tuple[str, str, bytes]] = (),
) -> EmailMessage:
    """A MIME message: text (and HTML) body plus (filename, mime type, bytes) attachments."""
    mail = EmailMessage()
    mail["From"] = server.sender
    mail["To"] = ", ".join(recipients)
    mail["Subject"] = subject
    mail.set_content(text)
    if html is not None:
        mail.add_alternative(html, subtype="html")
    for filename, mime, data in attachments:
        maintype, _, subtype = mime.partition("/")
        mail.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return mail


def send(server: SmtpServer, mail: EmailMessage, *, allow_plaintext: bool = False) -> None:
    """Send one message; SMTP and network errors, or an unsafe setup, raise DeliveryError."""
    try:
        host = server.check_security(allow_plaintext=allow_plaintext)
    except PlaintextRefused as exc:
        raise DeliveryError(str(exc)) from None
    try:
        if server.security == SmtpSecurity.TLS:
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                host, server.port, timeout=TIMEOUT_SECONDS, context=server.context()
            )
        else:
            client = smtplib.SMTP(host, server.port, timeout=TIMEOUT_SECONDS)
        with client:
            if server.security == SmtpSecurity.STARTTLS:
                client.starttls(context=server.context())
            if server.username:
                client.login(server.username, server.password or "")
            client.send_message(mail)
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"e-mail via {server.host}:{server.port} failed: {exc}") from None
