"""The `licensewatch` command line: one sub-module per command group."""

from __future__ import annotations

import typer

from licensewatch.cli.catalog import register_intelligence_commands
from licensewatch.cli.changes import changes
from licensewatch.cli.daemon import register_daemon_commands
from licensewatch.cli.demo import demo
from licensewatch.cli.emulator import emulator_app
from licensewatch.cli.keys import key_app
from licensewatch.cli.reports import register_report_commands
from licensewatch.cli.sso import sso_app
from licensewatch.cli.tenants import tenant_app
from licensewatch.cli.web import register_web_commands

app = typer.Typer(
    name="licensewatch",
    help=(
        "Microsoft 365 licence balance: collect users, SKUs and licence consumption "
        "through Microsoft Graph."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(tenant_app, name="tenant")
app.add_typer(emulator_app, name="emulator")
app.add_typer(key_app, name="key")
app.add_typer(sso_app, name="sso")
register_report_commands(app)
register_web_commands(app)
register_daemon_commands(app)
register_intelligence_commands(app)
app.command("demo")(demo)
app.command("changes")(changes)


def main() -> None:
    app()
