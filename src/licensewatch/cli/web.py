"""`licensewatch serve`, `user create|passwd|list|disable|unlock`, `token create|list|revoke`."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from licensewatch.cli.output import fail, stdout, table
from licensewatch.domain.schedule import parse_duration
from licensewatch.services.accounts import (
    TOKEN_LIFETIME,
    AccountError,
    create_account,
    create_token,
    list_accounts,
    list_tokens,
    revoke_token,
    revoke_tokens_of,
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
    workers: Annotated[
        int | None,
        typer.Option(min=1, help="Worker processes (default: the CPU count)."),
    ] = None,
    with_daemon: Annotated[
        bool,
        typer.Option("--with-daemon", help="Also sync due tenants in the background (once)."),
    ] = False,
) -> None:
    """Serve the dashboard, the REST API (/api/v1, docs at /api/docs) and /healthz."""
    from licensewatch.web.serve import default_workers, run

    count = workers or default_workers()
    stdout().print(f"licensewatch on http://{host}:{port}, {count} worker(s)  (Ctrl-C stops)")
    run(host, port, workers=count, with_daemon=with_daemon)


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
    keep_tokens: Annotated[
        bool,
        typer.Option("--keep-tokens", help="Keep the account's API tokens (default: revoke them)."),
    ] = False,
) -> None:
    """Set a new password (generated unless --password-stdin); ends its sessions and tokens."""
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    engine = make_engine(load_settings().database_url)
    try:
        new_password = set_password(engine, username, password, revoke_tokens=not keep_tokens)
    except AccountError as error:
        fail(str(error))
    finally:
        engine.dispose()
    kept = "kept" if keep_tokens else "revoked"
    stdout().print(f"Password of {username!r} changed; sessions ended, API tokens {kept}.")
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


@user_app.command("unlock")
def user_unlock(username: str) -> None:
    """Forget an account's failed sign-ins, so the throttle lets it try again at once."""
    from licensewatch.services.sign_in import SignInThrottle

    engine = make_engine(load_settings().database_url)
    try:
        SignInThrottle(engine).clear_account(username)
    finally:
        engine.dispose()
    stdout().print(f"Failed sign-ins of {username!r} forgotten.")


@token_app.command("create")
def token_create(
    username: str,
    name: Annotated[str, typer.Option(help="What the token is for.")] = "cli",
    expires_in: Annotated[
        str | None,
        typer.Option("--expires-in", help="Lifetime, e.g. 30d or 12h (default: 90d)."),
    ] = None,
    no_expiry: Annotated[
        bool, typer.Option("--no-expiry", help="Never expires (revoke it when done).")
    ] = False,
) -> None:
    """Create a personal API token for an account; printed once, stored only as a hash."""
    if no_expiry and expires_in is not None:
        fail("choose --expires-in or --no-expiry, not both")
    lifetime = None if no_expiry else TOKEN_LIFETIME
    if expires_in is not None:
        try:
            lifetime = parse_duration(expires_in)
        except ValueError as error:
            fail(f"--expires-in: {error}")
    engine = make_engine(load_settings().database_url)
    try:
        token = create_token(engine, username, name, expires_in=lifetime)
    except AccountError as error:
        fail(str(error))
    finally:
        engine.dispose()
    stdout().print(token)


@token_app.command("list")
def token_list(
    username: Annotated[
        str | None, typer.Argument(help="Only this account's tokens (default: every account).")
    ] = None,
) -> None:
    """List API tokens: id, account, name, dates and state (never the token itself)."""
    engine = make_engine(load_settings().database_url)
    try:
        tokens = list_tokens(engine, username)
    finally:
        engine.dispose()
    grid = table(None, ["id", "account", "name", "created", "last used", "expires", "state"])
    for t in tokens:
        grid.add_row(
            str(t.id),
            t.username,
            t.name,
            f"{t.created_at:%Y-%m-%d}",
            f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never",
            f"{t.expires_at:%Y-%m-%d}" if t.expires_at else "never",
            t.state.value,
        )
    stdout().print(grid)


@token_app.command("revoke")
def token_revoke(
    token_ids: Annotated[
        list[int] | None, typer.Argument(help="Ids from `licensewatch token list`.")
    ] = None,
    all_of: Annotated[
        str | None, typer.Option("--all-of", help="Revoke every token of this account.")
    ] = None,
) -> None:
    """Revoke API tokens by id, or all of an account's; they are refused (401) at once."""
    if not token_ids and all_of is None:
        fail("give token ids (see `licensewatch token list`) or --all-of USERNAME")
    engine = make_engine(load_settings().database_url)
    try:
        for token_id in token_ids or []:
            revoke_token(engine, token_id)
            stdout().print(f"Token {token_id} revoked.")
        if all_of is not None:
            count = revoke_tokens_of(engine, all_of)
            stdout().print(f"{count} token(s) of {all_of!r} revoked.")
    except AccountError as error:
        fail(str(error))
    finally:
        engine.dispose()
