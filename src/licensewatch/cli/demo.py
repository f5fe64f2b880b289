"""`licensewatch demo`: the emulator, two onboarded tenants with 90 days of history and demo prices,
the daemon and the dashboard, offline."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from licensewatch.cli.output import ExitCode, expected_errors, fail, print_checklist, stdout
from licensewatch.services.tenants import SecretInput, TenantNotFound, TenantService, TenantSettings
from licensewatch.settings import load_settings

if TYPE_CHECKING:
    from licensewatch.emulator.state import World
    from licensewatch.sync.runner import Mode, SyncResult

DEMO_TENANT = "demo"
# The second tenant's app has no AuditLog.Read.All: its sign-in findings say why they are missing.
DEMO_TENANTS = (DEMO_TENANT, "demo-subsidiary")
DEMO_ADMIN = "admin"
SIGN_IN_ROLE = "AuditLog.Read.All"


def onboard(service: TenantService, name: str, info: dict[str, Any], index: int = 0) -> None:
    """Adds (or, on a re-run, updates: ports and secrets change) the emulator tenant."""
    tenant = info["tenants"][index]
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
    users: Annotated[int, typer.Option("--users", help="Users in each demo tenant.")] = 2000,
    serve: Annotated[
        bool,
        typer.Option(help="Keep running: dashboard and daemon (--no-serve: print and exit)."),
    ] = True,
    host: Annotated[str, typer.Option(help="Address of the dashboard.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port of the dashboard.")] = 8000,
) -> None:
    """Run the product against the built-in Microsoft cloud emulator (no Microsoft account)."""
    from licensewatch.cli.balance import print_balance_table
    from licensewatch.cli.tenants import tenant_service
    from licensewatch.emulator.server import start_in_thread
    from licensewatch.intelligence.catalog import with_names
    from licensewatch.storage.database import session_scope
    from licensewatch.storage.queries import balance_rows

    settings = load_settings()
    cert_dir = settings.home / "emulator"
    console = stdout()
    with expected_errors(), tenant_service() as service:
        console.print("Starting the Microsoft cloud emulator (two tenants, messy scenario)...")
        world = demo_world(users, cert_dir)
        with start_in_thread(world, cert_dir=cert_dir) as emulator:
            console.print(f"Emulator listening on {emulator.base_url}")
            prepare(service, world, emulator.info)
            console.rule("licensewatch balance")
            with session_scope(service.engine, write=False) as session:
                rows = with_names(session, balance_rows(session, tenant_name=DEMO_TENANT))
            print_balance_table(rows)
            if serve:
                _serve(service, settings, host, port)
    console.print(
        f"Data lives in {escape(str(settings.home))}. Try: licensewatch balance --format json"
    )


def demo_world(users: int, cert_dir: Path) -> World:
    """Two seeded tenants (over-assigned, lapsing and free products); the first grants sign-ins."""
    from licensewatch.emulator.seed import build_world

    world = build_world(scenario="messy", users=users, seed=1, tenants=2, cert_dir=cert_dir)
    first = next(iter(world.tenants.values()))
    for app in first.apps.values():
        app.roles.add(SIGN_IN_ROLE)
    return world


def prepare(service: TenantService, world: World, info: dict[str, Any]) -> None:
    """Onboard both tenants, tell their 90-day story (first run) or replay it, sync, price."""
    from licensewatch.cli import demo_story
    from licensewatch.cli.sync import sync_tenant
    from licensewatch.storage.database import session_scope
    from licensewatch.storage.models import utcnow
    from licensewatch.storage.queries import last_completed_at

    console = stdout()
    now = utcnow()
    for index, (name, emulated) in enumerate(
        zip(DEMO_TENANTS, world.tenants.values(), strict=True)
    ):
        onboard(service, name, info, index)
        console.rule(f"licensewatch tenant test {name}")
        report = service.test(name)
        print_checklist(report)
        if not report.ok:
            fail(f"the demo tenant {name} failed its checks", ExitCode.FAILED)
        service.record_identity(name, report.tenant_id)
        tenant_pk = service.show(name).id
        with session_scope(service.engine, write=False) as session:
            synced_before = last_completed_at(session, tenant_pk) is not None
        if synced_before:  # a re-run: the fresh emulator gets the same changes, unsynced
            demo_story.replay(emulated, now)
        else:
            console.rule(f"{name}: {demo_story.DAYS} days of history (syncs of emulator changes)")

            def step(mode: Mode, tenant: str = name) -> SyncResult:
                return sync_tenant(service, tenant, mode=mode)

            runs = demo_story.record_history(service.engine, emulated, step, now)
            console.print(
                f"{len(runs)} syncs of real emulator changes, back-dated over {demo_story.DAYS} "
                "days and labelled as demo history."
            )
        console.rule(f"licensewatch sync {name}")
        if not sync_tenant(service, name, mode="auto").ok:
            raise typer.Exit(ExitCode.FAILED)
    priced = demo_story.set_demo_prices(service.engine)
    console.print(
        f"Demo prices set for {priced} products (EUR per month, labelled as demo prices)."
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
