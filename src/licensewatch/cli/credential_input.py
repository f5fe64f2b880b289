"""A tenant's credential from the command line: a client secret or a certificate, via stdin."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from licensewatch.cli.output import fail, warn
from licensewatch.services.tenant_views import SecretInput

if TYPE_CHECKING:
    from licensewatch.domain.certificates import ClientCertificate

_PIPE_HINT = (
    'pipe it, e.g. `printf %s "$SECRET" | licensewatch tenant add ... --client-secret-stdin`'
)


def _read_stdin(what: str) -> str:
    if sys.stdin is None:
        fail(f"no stdin to read the {what} from; {_PIPE_HINT}")
    if sys.stdin.isatty():
        return str(typer.prompt(what, hide_input=True))
    return sys.stdin.read()


def read_credential(
    secret_stdin: bool,
    secret_arg: str | None,
    certificate: Path | None,
    private_key: Path | None,
    password_stdin: bool,
    secret_expires: str | None,
) -> SecretInput | ClientCertificate | None:
    if secret_arg is not None:
        fail(f"secrets are never taken as arguments (shell history, ps); {_PIPE_HINT}")
    if secret_stdin and certificate is not None:
        fail("give either --client-secret-stdin or --certificate, not both")
    if (private_key or password_stdin) and certificate is None:
        fail("--private-key and --certificate-password-stdin go with --certificate")
    if secret_expires and not secret_stdin:
        fail("--secret-expires goes with --client-secret-stdin")
    if secret_stdin:
        try:
            expires = dt.date.fromisoformat(secret_expires) if secret_expires else None
        except ValueError:
            fail(f"--secret-expires {secret_expires!r} is not a date: use YYYY-MM-DD")
        secret = SecretInput(_read_stdin("client secret value"), expires)
        if expires is not None and expires <= dt.datetime.now(dt.UTC).date():
            warn(f"the secret expired on {expires}: Entra will refuse it; create a new one")
        return secret
    if certificate is not None:
        from licensewatch.domain.certificates import load_certificate_files

        password = _read_stdin("certificate password").rstrip("\r\n") if password_stdin else None
        bundle = load_certificate_files(
            certificate, private_key, password.encode() if password else None
        )
        for message in bundle.warnings():
            warn(message)
        return bundle
    return None
