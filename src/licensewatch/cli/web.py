"""`licensewatch serve`, `user create|list|disable` and `token create`: the web app's commands."""

from __future__ import annotations

import sys
from datetime import timedelta
from typing import Annotated

import typer

from licensewatch.cli.output import fail, stdout, table
from licensewatch.services.accounts import (
    AccountError,
    create_account,
    create_token,
    list_accounts,
    set_disabled,
    set_password,
    set_tenant_scope,
)
from licensewatch.settings import load_settings
from licensewatch.storage.database import make_engine
from licensewatch.storage.models.accounts import Role

user_app = typer.Typer(no_args_is_help=True, help="Manage the web app's local accounts.")
token_app = typer.Typer(no_args_is_help=True, help="Manage personal REST API tokens.")


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    with_daemon: Annotated[
        bool, typer.Option("--with-daemon", help="Also sync due tenants in the background.")
    ] = False,
) -> None:
    """Serve the dashboard, the REST API (/api/v1, docs at /api/docs) and /healthz."""
    import uvicorn

    from licensewatch.web import create_app

    settings = load_settings()
    app = create_app(settings, with_daemon=with_daemon)
    stdout().print(f"licensewatch on http://{host}:{port}  (Ctrl-C stops)")
    uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=True)


@user_app.command("create")
def user_create(
    username: str,
    admin: Annotated[
        bool, typer.Option("--admin", help="Administrator (manages tenants).")
    ] = False,
    viewer: Annotated[bool, typer.Option("--viewer", help="Read only (the default).")] = False,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin.")
    ] = False,
) -> None:
    """Create an account; prints a generated strong password unless --password-stdin."""
    if admin and viewer:
        fail("choose --admin or --viewer, not both")
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    engine = make_engine(load_settings().database_url)
    try:
        created = create_account(engine, username, Role.ADMIN if admin else Role.VIEWER, password)
    except AccountError as error:
        fail(str(error))
    finally:
        engine.dispose()
    role = "admin" if admin else "viewer"
    stdout().print(f"Created {role} account {username!r}.")
    if not password_stdin:
        stdout().print(f"Password (shown once): {created}")


@user_app.command("passwd")
def user_passwd(
    username: str,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the new password from stdin.")
    ] = False,
) -> None:
    """Set a new password (generated and printed unless --password-stdin); ends its sessions."""
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    engine = make_engine(load_settings().database_url)
    try:
        new_password = set_password(engine, username, password)
    except AccountError as error:
        fail(str(error))
    finally:
        engine.dispose()
    stdout().print(f"Password of {username!r} changed.")
    if not password_stdin:
        stdout().print(f"Password (shown once): {new_password}")


@user_app.command("list")
def user_list() -> None:
    """List accounts with role, last sign-in and state."""
    engine = make_engine(load_settings().database_url)
    try:
        accounts = list_accounts(engine)
    finally:
        engine.dispose()
    grid = table(None, ["username", "role", "created", "last sign-in", "state"])
    for a in accounts:
        last = f"{a.last_login_at:%Y-%m-%d %H:%M}" if a.last_login_at else "never"
        state = "disabled" if a.disabled else "active"
        grid.add_row(a.username, a.role.value, f"{a.created_at:%Y-%m-%d}", last, state)
    stdout().print(grid)


@user_app.command("disable")
def user_disable(
    username: str,
    enable: Annotated[bool, typer.Option("--enable", help="Re-enable instead.")] = False,
) -> None:
    """Disable an account (its sessions end at once), or re-enable it with --enable."""
    engine = make_engine(load_settings().database_url)
    try:
        set_disabled(engine, username, disabled=not enable)
    except AccountError as error:
        fail(str(error))
    finally:
        engine.dispose()
    stdout().print(f"Account {username!r} {'enabled' if enable else 'disabled'}.")


@user_app.command("scope")
def user_scope(
    username: str,
    tenant: Annotated[
        list[str] | None, typer.Option("--tenant", help="A tenant this viewer may see.")
    ] = None,
    all_tenants: Annotated[bool, typer.Option("--all", help="Lift the limit.")] = False,
) -> None:
    """Limit a viewer to some tenants (every page, API, export and report follows it)."""
    if bool(tenant) == all_tenants:
        fail("give --tenant NAME (repeatable) or --all")
    engine = make_engine(load_settings().database_url)
    try:
        set_tenant_scope(engine, username, None if all_tenants else list(tenant or ()))
    except AccountError as error:
        fail(str(error))
    finally:
        engine.dispose()
    seen = "every tenant" if all_tenants else ", ".join(sorted(set(tenant or ())))
    stdout().print(f"{username} sees {seen}.")


@token_app.command("create")
def token_create(
    username: str,
    name: Annotated[str, typer.Option(help="What the token is for.")] = "cli",
    days: Annotated[int, typer.Option(help="Expires after this many days (0: never).")] = 0,
) -> None:
    """Create a personal API token for an account; printed once, stored only as a hash."""
    engine = make_engine(load_settings().database_url)
    expires = timedelta(days=days) if days > 0 else None
    try:
        token = create_token(engine, username, name, expires_in=expires)
    except AccountError as error:
        fail(str(error))
    finally:
        engine.dispose()
    stdout().print(token)


def register_web_commands(app: typer.Typer) -> None:
    """Adds `serve`, `user ...` and `token ...` to the top-level app."""
    app.command("serve")(serve)
    app.add_typer(user_app, name="user")
    app.add_typer(token_app, name="token")
