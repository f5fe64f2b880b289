"""`licensewatch sso ...`: configure, show and disable sign-in with Microsoft (Entra ID SSO)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from licensewatch.cli.credential_input import read_credential
from licensewatch.cli.database import open_engine
from licensewatch.cli.output import OutputFormat, expected_errors, fail, info, print_json, stdout
from licensewatch.cli.tenants import (
    AuthorityOpt,
    CaOpt,
    CertOpt,
    ClientIdOpt,
    FormatOpt,
    GraphOpt,
    KeyOpt,
    PasswordOpt,
    SecretArgOpt,
    SecretStdinOpt,
)
from licensewatch.services.sso import SsoInput, SsoService, SsoView

sso_app = typer.Typer(
    no_args_is_help=True,
    help="Sign in to the web app with Microsoft Entra ID (OIDC, PKCE, roles from Entra).",
)

GroupsOpt = Annotated[list[str] | None, typer.Option(help="Group object ID (repeatable).")]
AllowedOpt = Annotated[
    list[str] | None,
    typer.Option("--allowed-tenant", help="Multi-tenant mode: a tenant ID allowed to sign in."),
]
ScopeOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--scope-group",
        help="GROUP_ID=tenant1,tenant2: viewers in the group see only these tenants (repeatable).",
    ),
]
LocalOpt = Annotated[
    str,
    typer.Option(
        "--local-sign-in",
        help="'all', or 'admins': local passwords only for break-glass administrators.",
    ),
]
SsoTenantOpt = Annotated[
    str,
    typer.Option(
        "--tenant-id",
        help="Directory (tenant) ID of the organisation, or 'organizations' (MSP multi-tenant).",
    ),
]


def _print(view: SsoView) -> None:
    rows = {
        "status": "enabled" if view.enabled else "disabled",
        "tenant ID": view.tenant_id + (" (multi-tenant)" if view.multi_tenant else ""),
        "client ID": view.client_id,
        "credential": view.credential,
        "authority host": view.authority_host,
        "graph endpoint": view.graph_endpoint,
        "CA bundle": view.ca_bundle or "system (certifi)",
        "admin groups": ", ".join(view.admin_groups) or "- (app role licensewatch.Admin)",
        "viewer groups": ", ".join(view.viewer_groups) or "- (app role licensewatch.Viewer)",
        "allowed tenants": ", ".join(view.allowed_tenants) or "-",
        "local sign-in": view.local_sign_in,
        "scope groups": "; ".join(f"{g} = {', '.join(t)}" for g, t in view.scope_groups.items())
        or "- (viewers see every tenant)",
    }
    console = stdout()
    for label, value in rows.items():
        console.print(f"[bold]{label + ':':<16}[/] {escape(value)}")


def _scope_groups(values: list[str]) -> dict[str, tuple[str, ...]]:
    found: dict[str, tuple[str, ...]] = {}
    for value in values:
        group, sep, tenants = value.partition("=")
        names = tuple(t.strip() for t in tenants.split(",") if t.strip())
        if not sep or not names:
            fail(f"--scope-group takes GROUP_ID=tenant1,tenant2 (got {value})")
        found[group.strip()] = names
    return found


@sso_app.command("configure")
def configure(
    tenant_id: SsoTenantOpt,
    client_id: ClientIdOpt = None,
    client_secret_stdin: SecretStdinOpt = False,
    client_secret: SecretArgOpt = None,
    certificate: CertOpt = None,
    private_key: KeyOpt = None,
    certificate_password_stdin: PasswordOpt = False,
    authority_host: AuthorityOpt = None,
    graph_endpoint: GraphOpt = None,
    ca_bundle: CaOpt = None,
    admin_group: GroupsOpt = None,
    viewer_group: GroupsOpt = None,
    allowed_tenant: AllowedOpt = None,
    local_sign_in: LocalOpt = "all",
    scope_group: ScopeOpt = None,
) -> None:
    """Turn on "Sign in with Microsoft" with the web app registration's IDs and credential."""
    if not client_id:
        fail("--client-id is required: the web app registration's Application (client) ID")
    with expected_errors():
        credential = read_credential(
            client_secret_stdin,
            client_secret,
            certificate,
            private_key,
            certificate_password_stdin,
            secret_expires=None,
        )
        if credential is None:
            fail("give --client-secret-stdin or --certificate (the web app's credential)")
        engine = open_engine()
        try:
            view = SsoService(engine).configure(
                SsoInput(
                    tenant_id=tenant_id,
                    client_id=client_id,
                    credential=credential,
                    authority_host=authority_host,
                    graph_endpoint=graph_endpoint,
                    ca_bundle=ca_bundle,
                    admin_groups=tuple(admin_group or ()),
                    viewer_groups=tuple(viewer_group or ()),
                    allowed_tenants=tuple(allowed_tenant or ()),
                    local_sign_in=local_sign_in,
                    scope_groups=_scope_groups(scope_group or []),
                )
            )
        finally:
            engine.dispose()
    _print(view)
    info("Redirect URI to register in Entra (Web platform): https://YOUR-HOST/auth/callback")


@sso_app.command("show")
def show(output: FormatOpt = OutputFormat.TABLE) -> None:
    """Show the SSO settings (never the secret or the private key)."""
    engine = open_engine()
    try:
        view = SsoService(engine).show()
    finally:
        engine.dispose()
    if view is None:
        fail("single sign-on is not configured: see `licensewatch sso configure --help`")
    if output is OutputFormat.JSON:
        print_json(view.to_dict())
    else:
        _print(view)


@sso_app.command("disable")
def disable() -> None:
    """Turn SSO off: local accounts sign in again (the settings are kept)."""
    engine = open_engine()
    try:
        changed = SsoService(engine).disable()
    finally:
        engine.dispose()
    info("single sign-on disabled" if changed else "single sign-on was not enabled")
