"""`licensewatch key rotate`: re-encrypt every stored secret under a new key."""

from __future__ import annotations

import typer
from rich.markup import escape

from licensewatch.cli.output import expected_errors, stdout
from licensewatch.services.keys import rotate_key
from licensewatch.settings import load_settings

key_app = typer.Typer(no_args_is_help=True, help="Manage the key that encrypts secrets at rest.")


@key_app.command("rotate")
def rotate() -> None:
    """Re-encrypt every stored secret in one transaction; a key file is replaced by a new key."""
    from licensewatch.cli.tenants import tenant_service

    with expected_errors(), tenant_service() as service:
        result = rotate_key(service.engine, load_settings())
    console = stdout()
    details = ", ".join(f"{label}: {count}" for label, count in result.counts.items())
    console.print(f"Re-encrypted {result.total} secret(s) ({escape(details)}).")
    if result.new_key_file:
        console.print(f"New key in {escape(result.source)}; the old key is gone.")
    else:
        console.print(
            "Keys come from LICENSEWATCH_SECRET_KEY: everything now uses its first (primary) key; "
            "you can drop the other keys from the variable."
        )
