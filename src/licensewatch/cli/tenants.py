"""`licensewatch tenant ...`: add, list, show, update, remove and test Microsoft 365 tenants."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from licensewatch.cli.credential_input import read_credential
from licensewatch.cli.database import open_engine
from licensewatch.cli.output import (
    ExitCode,
    OutputFormat,
    escape,
    expected_errors,
    fail,
    print_checklist,
    print_json,
    stdout,
)
from licensewatch.cli.tables import Column, Line, WideOpt, print_table
from licensewatch.domain.schedule import MAX_SYNC_INTERVAL, parse_duration
from licensewatch.graph.clouds import Cloud
from licensewatch.services.tenant_views import TenantSettings, TenantView

if TYPE_CHECKING:
    from licensewatch.services.tenants import TenantService

tenant_app = typer.Typer(
    no_args_is_help=True, help="Add, inspect, change, remove and test Microsoft 365 tenants."
)

_VALUE_HELP = "Read the client secret's *Value* from stdin (never from the command line)."

NameArg = Annotated[str, typer.Argument(help="A local name for the tenant, e.g. contoso.")]
TenantIdOpt = Annotated[str | None, typer.Option("--tenant-id", help="Directory (tenant) ID.")]
ClientIdOpt = Annotated[str | None, typer.Option("--client-id", help="Application (client) ID.")]
SecretStdinOpt = Annotated[bool, typer.Option("--client-secret-stdin", help=_VALUE_HELP)]
SecretArgOpt = Annotated[str | None, typer.Option("--client-secret", hidden=True)]
CertOpt = Annotated[Path | None, typer.Option("--certificate", help="PEM or PFX file.")]
KeyOpt = Annotated[Path | None, typer.Option("--private-key", help="PEM key file, if apart.")]
PasswordOpt = Annotated[bool, typer.Option("--certificate-password-stdin", help="Password: stdin.")]
CloudOpt = Annotated[Cloud | None, typer.Option("--cloud", help="Microsoft cloud of the tenant.")]
AuthorityOpt = Annotated[str | None, typer.Option("--authority-host", help="Entra host (https).")]
GraphOpt = Annotated[str | None, typer.Option("--graph-endpoint", help="Graph URL (https).")]
CaOpt = Annotated[str | None, typer.Option("--ca-bundle", help="PEM file of CAs to trust.")]
ExpiresOpt = Annotated[str | None, typer.Option("--secret-expires", help="YYYY-MM-DD.")]
IntervalOpt = Annotated[str | None, typer.Option("--sync-interval", help="e.g. 1h, 30m.")]
FormatOpt = Annotated[OutputFormat, typer.Option("--format", help="table or json.")]
_LIST_COLUMNS = (
    Column("name"),
    Column("tenant ID", priority=2),
    Column("client ID", priority=3),
    Column("cloud", priority=4),
    Column("credential", priority=1, fold=True),
    Column("last full sync"),
)


@contextmanager
def tenant_service() -> Iterator[TenantService]:
    """The service over the configured database; pooled connections are closed afterwards."""
    # Imported here: onboarding (Graph, certificates, the keyring) is not needed to list.
    from licensewatch.services.tenants import TenantService

    engine = open_engine()
    try:
        yield TenantService(engine)
    finally:
        engine.dispose()


def _settings(options: dict[str, Any], name: str | None) -> TenantSettings:
    """TenantSettings from a command's options (its locals): credential read, interval parsed."""
    credential = read_credential(
        options.pop("client_secret_stdin"),
        options.pop("client_secret"),
        options.pop("certificate"),
        options.pop("private_key"),
        options.pop("certificate_password_stdin"),
        options.pop("secret_expires"),
    )
    interval = options.pop("sync_interval")
    try:
        sync_interval = parse_duration(interval, MAX_SYNC_INTERVAL) if interval else None
    except ValueError as error:
        fail(f"--sync-interval: {error}")
    options.pop("rename", None)
    options["name"] = name
    return TenantSettings(**options, credential=credential, sync_interval=sync_interval)


def _print_view(view: TenantView) -> None:
    resolved = view.resolved_tenant_id
    interval = view.sync_interval_seconds
    synced = view.last_full_sync_at
    rows = {
        "name": view.name,
        "tenant ID": view.tenant_id
        + (f" ({resolved})" if resolved not in (None, view.tenant_id) else ""),
        "organization": view.organization_name or "-",
        "client ID": view.client_id,
        "cloud": view.cloud,
        "authority host": view.authority_host,
        "graph endpoint": view.graph_endpoint,
        "CA bundle": view.ca_bundle or "system (certifi)",
        "credential": view.credential.describe() if view.credential else "none",
        "sync interval": f"{interval}s" if interval else "default",
        "last full sync": f"{synced:%Y-%m-%d %H:%M} UTC" if synced else "never",
        "licence writes": "allowed" if view.allow_writes else "off (read-only)",
        "four-eyes": "on" if view.four_eyes else "off",
    }
    console = stdout()
    for label, value in rows.items():
        console.print(f"[bold]{label + ':':<16}[/] {escape(value)}")


@tenant_app.command("add")
def add(
    name: NameArg,
    tenant_id: TenantIdOpt = None,
    client_id: ClientIdOpt = None,
    client_secret_stdin: SecretStdinOpt = False,
    client_secret: SecretArgOpt = None,
    certificate: CertOpt = None,
    private_key: KeyOpt = None,
    certificate_password_stdin: PasswordOpt = False,
    cloud: CloudOpt = None,
    authority_host: AuthorityOpt = None,
    graph_endpoint: GraphOpt = None,
    ca_bundle: CaOpt = None,
    secret_expires: ExpiresOpt = None,
    sync_interval: IntervalOpt = None,
) -> None:
    """Register a tenant: its IDs and the app's client secret (stdin) or certificate."""
    with expected_errors():
        if not tenant_id or not client_id:
            fail("--tenant-id and --client-id are required (both on the app's Overview page)")
        settings = _settings(dict(locals()), name)
        if settings.credential is None:
            fail("a credential is required: --client-secret-stdin, or --certificate FILE")
        with tenant_service() as svc:
            view = svc.add(settings)
    shown = escape(view.name)
    stdout().print(f"Added tenant [bold]{shown}[/]. Next: licensewatch tenant test {shown}")


def _list_line(view: TenantView) -> Line:
    synced = view.last_full_sync_at
    credential = view.credential.describe() if view.credential else "none"
    cells = [view.name, view.tenant_id, view.client_id, view.cloud, credential]
    return Line([*cells, f"{synced:%Y-%m-%d %H:%M}" if synced else "never"])


@tenant_app.command("list")
def list_(output: FormatOpt = OutputFormat.TABLE, wide: WideOpt = False) -> None:
    """List the tenants (no secrets, ever)."""
    from licensewatch.cli.database import read_snapshot
    from licensewatch.services.tenant_list import list_tenants

    with expected_errors(), read_snapshot() as bind:
        views = list_tenants(bind)
    if output == OutputFormat.JSON:
        print_json([view.to_dict() for view in views])
        return
    if output == OutputFormat.CSV:
        fail("tenant list supports --format table or json")
    if not views:
        stdout().print("No tenants yet: licensewatch tenant add --help")
        return
    lines = [_list_line(view) for view in views]
    print_table("Tenants", _LIST_COLUMNS, lines, wide=wide)


@tenant_app.command("show")
def show(name: NameArg, output: FormatOpt = OutputFormat.TABLE) -> None:
    """Show one tenant's settings; the credential only as kind, "set", thumbprint and expiry."""
    with expected_errors(), tenant_service() as svc:
        view = svc.show(name)
    if output == OutputFormat.JSON:
        print_json(view.to_dict())
    else:
        _print_view(view)


@tenant_app.command("update")
def update(
    name: NameArg,
    rename: Annotated[str | None, typer.Option("--rename", help="New local name.")] = None,
    tenant_id: TenantIdOpt = None,
    client_id: ClientIdOpt = None,
    client_secret_stdin: SecretStdinOpt = False,
    client_secret: SecretArgOpt = None,
    certificate: CertOpt = None,
    private_key: KeyOpt = None,
    certificate_password_stdin: PasswordOpt = False,
    cloud: CloudOpt = None,
    authority_host: AuthorityOpt = None,
    graph_endpoint: GraphOpt = None,
    default_endpoints: Annotated[
        bool, typer.Option("--default-endpoints", help="Drop custom endpoints: use the cloud's.")
    ] = False,
    ca_bundle: CaOpt = None,
    default_ca_bundle: Annotated[
        bool, typer.Option("--default-ca-bundle", help="Trust the public CAs again.")
    ] = False,
    secret_expires: ExpiresOpt = None,
    sync_interval: IntervalOpt = None,
    allow_writes: Annotated[
        bool | None,
        typer.Option(
            "--allow-writes/--no-allow-writes",
            help="Let approved change plans assign and remove licences (off by default).",
        ),
    ] = None,
    four_eyes: Annotated[
        bool | None,
        typer.Option(
            "--four-eyes/--no-four-eyes",
            help="A plan must be approved by an admin other than its creator.",
        ),
    ] = None,
) -> None:
    """Change a tenant's name, IDs, cloud, endpoints, CA bundle, interval, credential or writes."""
    from licensewatch.cli.actor import cli_actor
    from licensewatch.services.plans import set_write_access

    with expected_errors():
        options = dict(locals())
        for local in ("allow_writes", "four_eyes", "cli_actor", "set_write_access"):
            options.pop(local, None)
        target = options.pop("name")
        settings = _settings(options, rename)
        if settings == TenantSettings() and allow_writes is None and four_eyes is None:
            fail("nothing to change: give at least one option (see --help)")
        with tenant_service() as svc:
            if settings != TenantSettings():
                target = svc.update(target, settings).name
            if allow_writes is not None or four_eyes is not None:
                set_write_access(
                    svc.engine, target, cli_actor(), allow_writes=allow_writes, four_eyes=four_eyes
                )
            view = svc.show(target)
    stdout().print(f"Updated tenant [bold]{escape(view.name)}[/].")
    if allow_writes:
        stdout().print(
            "Licence writes are on: approved change plans may assign and remove licences. The app "
            "needs the application permission LicenseAssignment.ReadWrite.All: check with "
            f"`licensewatch tenant test {escape(view.name)}`."
        )


@tenant_app.command("remove")
def remove(
    name: NameArg,
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: deletes its data too.")] = False,
) -> None:
    """Remove a tenant with its credential and all collected data."""
    if not yes:
        fail(f"removing {name!r} deletes its credential and collected data: add --yes to confirm")
    with expected_errors(), tenant_service() as svc:
        svc.remove(name)
    stdout().print(f"Removed tenant [bold]{escape(name)}[/] and its data.")


@tenant_app.command("test")
def check_tenant(name: NameArg, output: FormatOpt = OutputFormat.TABLE) -> None:
    """Check the setup step by step (sign-in, consent, each Graph endpoint); 0 only if all pass."""
    with expected_errors(), tenant_service() as svc:
        report = svc.test(name)
        if report.ok:
            svc.record_identity(name, report.tenant_id)
    if output == OutputFormat.JSON:
        print_json(report.to_dict())
    else:
        print_checklist(report)
    raise typer.Exit(ExitCode.OK if report.ok else ExitCode.FAILED)
