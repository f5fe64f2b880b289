"""`licensewatch demo`: the emulator, an onboarded tenant, the daemon and the dashboard, offline."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape

from licensewatch.cli.output import ExitCode, expected_errors, fail, print_checklist, stdout
from licensewatch.services.tenants import SecretInput, TenantNotFound, TenantService, TenantSettings
from licensewatch.settings import load_settings

DEMO_TENANT = "demo"
DEMO_ADMIN = "admin"


def onboard(service: TenantService, name: str, info: dict[str, Any]) -> None:
    """Adds (or, on a re-run, updates: ports and secrets change) the emulator tenant."""
    tenant = info["tenants"][0]
    settings = TenantSettings(
        tenant_id=tenant["domain"] or tenant["tenant_id"],
        client_id=tenant["client_id"],
        credential=SecretInput(tenant["client_secret"]),
        authority_host=info["authority_host"],
        graph_endpoint=info["graph_endpoint"],
        ca_bundle=info["ca_bundle"],
    )
    try:
        service.update(name, settings)
        stdout().print(f"Reusing tenant [bold]{escape(name)}[/] (endpoints and secret refreshed).")
    except TenantNotFound:
        service.add(TenantSettings(**{**settings.__dict__, "name": name}))
        stdout().print(
            f"Added tenant [bold]{escape(name)}[/] (as `licensewatch tenant add` would)."
        )


def demo_login(service: TenantService) -> str:
    """A fresh password for the demo's admin account (created on the first run)."""
    from licensewatch.services.accounts import AccountError, create_account, set_password
    from licensewatch.storage.models.accounts import Role

    try:
        return create_account(service.engine, DEMO_ADMIN, Role.ADMIN)
    except AccountError:
        return set_password(service.engine, DEMO_ADMIN)


def demo(
    users: Annotated[int, typer.Option("--users", help="Users in the demo tenant.")] = 2000,
    serve: Annotated[
        bool,
        typer.Option(help="Keep running: dashboard and daemon (--no-serve: print and exit)."),
    ] = True,
    host: Annotated[str, typer.Option(help="Address of the dashboard.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port of the dashboard.")] = 8000,
) -> None:
    """Run the product against the built-in Microsoft cloud emulator (no Microsoft account)."""
    from licensewatch.cli.reports import print_balance_table, sync_tenant
    from licensewatch.cli.tenants import tenant_service
    from licensewatch.emulator.seed import build_world
    from licensewatch.emulator.server import start_in_thread
    from licensewatch.intelligence.catalog import with_names
    from licensewatch.storage.database import session_scope
    from licensewatch.storage.queries import balance_rows

    settings = load_settings()
    cert_dir = settings.home / "emulator"
    console = stdout()
    with expected_errors(), tenant_service() as service:
        console.print("Starting the Microsoft cloud emulator (enterprise scenario)...")
        world = build_world(
            scenario="enterprise", users=users, seed=1, tenants=1, cert_dir=cert_dir
        )
        with start_in_thread(world, cert_dir=cert_dir) as emulator:
            console.print(f"Emulator listening on {emulator.base_url}")
            onboard(service, DEMO_TENANT, emulator.info)
            console.rule("licensewatch tenant test demo")
            report = service.test(DEMO_TENANT)
            print_checklist(report)
            if not report.ok:
                fail("the demo tenant failed its checks", ExitCode.FAILED)
            service.record_identity(DEMO_TENANT, report.tenant_id)
            console.rule("licensewatch sync demo")
            if not sync_tenant(service, DEMO_TENANT, mode="full").ok:
                raise typer.Exit(ExitCode.FAILED)
            console.rule("licensewatch balance")
            with session_scope(service.engine, write=False) as session:
                rows = with_names(session, balance_rows(session, tenant_name=DEMO_TENANT))
            print_balance_table(rows)
            if serve:
                _serve(service, settings, host, port)
    console.print(
        f"Data lives in {escape(str(settings.home))}. Try: licensewatch balance --format json"
    )


def _serve(service: TenantService, settings: Any, host: str, port: int) -> None:
    """The dashboard with the embedded daemon, until Ctrl-C (the emulator keeps answering)."""
    import uvicorn

    from licensewatch.web import create_app

    password = demo_login(service)
    console = stdout()
    console.rule("licensewatch serve --with-daemon")
    console.print(f"Dashboard: [bold]http://{host}:{port}[/]")
    console.print(f"Sign in as [bold]{DEMO_ADMIN}[/] with password [bold]{escape(password)}[/]")
    console.print("The daemon keeps the demo tenant in sync. Ctrl-C stops everything.")
    app = create_app(settings, engine=service.engine, with_daemon=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=False)
