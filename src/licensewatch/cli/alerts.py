"""`licensewatch alerts ...`: destinations, rules, a test notice, the log, evaluate now."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from licensewatch.cli.catalog import FormatOpt, intelligence_engine
from licensewatch.cli.output import OutputFormat, fail, print_json, stdout, table

alerts_app = typer.Typer(no_args_is_help=True, help="Alert rules, destinations and their log.")


_URL_ARGUMENT_REFUSED = (
    "a webhook URL is a secret (it often carries the credential: user:pass@, ?code=, sig=, a "
    "secret path) and is never taken as an argument (shell history, ps): pipe it with "
    '`printf %s "$URL" | licensewatch alerts destination NAME --webhook-stdin`, '
    "or use --webhook-file PATH"
)


def _read_secret_file(path: Path, what: str) -> str:
    try:
        value = path.read_text(encoding="utf-8").strip()
    except OSError as error:
        fail(f"cannot read the {what} from {path}: {error.strerror}")
    except UnicodeDecodeError:
        fail(f"{path} is not UTF-8 text: it must hold the {what} only")
    if not value:
        fail(f"{path} is empty: it must hold the {what}")
    return value


def _stdin_lines(names: list[str]) -> list[str]:
    if sys.stdin is None:
        fail("no stdin to read from: pipe the value(s) in")
    if sys.stdin.isatty():  # typed by hand: not echoed to the screen (or a screen recording)
        return [str(typer.prompt(name, hide_input=True)).strip() for name in names]
    count = len(names)
    lines = [sys.stdin.readline().strip() for _ in range(count)]
    if not all(lines):
        fail(f"expected {count} non-empty line(s) on stdin (URL first, then the secret)")
    return lines


def _secrets(
    url_stdin: bool, url_file: Path | None, secret_stdin: bool, secret_file: Path | None
) -> tuple[str | None, str | None]:
    """The webhook URL and the secret, from stdin (URL line first) or files, never argv."""
    if url_stdin and url_file:
        fail("give either --webhook-stdin or --webhook-file, not both")
    if secret_stdin and secret_file:
        fail("give either --secret-stdin or --secret-file, not both")
    wanted = ["webhook URL"] * url_stdin + ["secret"] * secret_stdin
    piped = _stdin_lines(wanted) if wanted else []
    url = piped.pop(0) if url_stdin else None
    secret = piped.pop(0) if secret_stdin else None
    if url_file:
        url = _read_secret_file(url_file, "webhook URL")
    if secret_file:
        secret = _read_secret_file(secret_file, "secret")
    return url, secret


@alerts_app.command("destination")
def destination(
    name: Annotated[str, typer.Argument(help="A name for the destination, e.g. ops.")],
    webhook_stdin: Annotated[
        bool, typer.Option("--webhook-stdin", help="Read the https:// URL to POST to from stdin.")
    ] = False,
    webhook_file: Annotated[
        Path | None, typer.Option("--webhook-file", help="Read the webhook URL from this file.")
    ] = None,
    webhook: Annotated[str | None, typer.Option("--webhook", hidden=True)] = None,
    email: Annotated[
        str | None, typer.Option("--email", help="Addresses, comma-separated.")
    ] = None,
    secret_stdin: Annotated[
        bool,
        typer.Option(
            "--secret-stdin",
            help="Webhook HMAC key or SMTP password, from stdin (after the URL line, if both).",
        ),
    ] = False,
    secret_file: Annotated[
        Path | None, typer.Option("--secret-file", help="Webhook HMAC key or SMTP password file.")
    ] = None,
    smtp_host: Annotated[str | None, typer.Option("--smtp-host")] = None,
    smtp_port: Annotated[int, typer.Option("--smtp-port")] = 587,
    smtp_security: Annotated[
        str,
        typer.Option("--smtp-security", help="starttls, tls, or none (a relay on localhost only)."),
    ] = "starttls",
    smtp_user: Annotated[str | None, typer.Option("--smtp-user")] = None,
    sender: Annotated[str | None, typer.Option("--from", help="Sender address.")] = None,
) -> None:
    """Add a webhook or e-mail destination for alerts and reports."""
    from licensewatch.intelligence.alerts.rules import add_destination

    if webhook is not None:
        fail(_URL_ARGUMENT_REFUSED)
    is_webhook = webhook_stdin or webhook_file is not None
    if is_webhook == bool(email):
        fail("give exactly one of --webhook-stdin, --webhook-file PATH or --email ADDRESSES")
    url, secret = _secrets(webhook_stdin, webhook_file, secret_stdin, secret_file)
    options = {"host": smtp_host, "port": smtp_port, "security": smtp_security}
    options |= {"username": smtp_user, "sender": sender}
    with intelligence_engine() as engine:
        add_destination(
            engine,
            name,
            "webhook" if is_webhook else "email",
            url or email or "",
            secret=secret or None,
            options=options if email else {},
        )
    stdout().print(
        f"Added destination {escape(name)}. Check it: licensewatch alerts test {escape(name)}"
    )


@alerts_app.command("add")
def add(
    kind: Annotated[
        str,
        typer.Argument(
            help="low_available, over_assigned, lapsing_subscription, sync_failing, "
            "credential_expiring, renewal_upcoming."
        ),
    ],
    to: Annotated[str, typer.Option("--to", help="Destination name.")],
    tenant: Annotated[str | None, typer.Option("--tenant", help="Only this tenant.")] = None,
    product: Annotated[str | None, typer.Option("--product", help="Only this product.")] = None,
    threshold: Annotated[
        float | None, typer.Option("--threshold", help="Seats, %, days or hours (see docs).")
    ] = None,
    percent: Annotated[bool, typer.Option("--percent", help="Threshold is a percentage.")] = False,
) -> None:
    """Add a rule: notified once when its condition starts and once when it clears."""
    from licensewatch.intelligence.alerts.rules import add_rule

    with intelligence_engine() as engine:
        rule_id = add_rule(
            engine, kind, to, tenant=tenant, product=product, threshold=threshold, percent=percent
        )
    stdout().print(f"Added rule {rule_id}.")


@alerts_app.command("list")
def list_(output: FormatOpt = OutputFormat.TABLE) -> None:
    """Rules and destinations (never a secret)."""
    from licensewatch.intelligence.alerts.rules import list_destinations, list_rules
    from licensewatch.storage.database import session_scope

    with intelligence_engine() as engine, session_scope(engine, write=False) as session:
        rules = list_rules(session)
        targets = [
            {
                "name": d.name,
                "kind": d.kind,
                "target": d.target,
                "signed": bool(d.secret_ciphertext),
            }
            for d in list_destinations(session)
        ]
    if output != OutputFormat.TABLE:
        print_json({"rules": rules, "destinations": targets})
        return
    columns = ["id", "kind", "tenant", "sku_id", "threshold", "percent", "destination"]
    result = table("Alert rules", columns)
    for rule in rules:
        result.add_row(*(str(rule[c]) for c in columns))
    stdout().print(result)
    result = table("Destinations", ["name", "kind", "target", "signed"])
    for target in targets:
        result.add_row(*(str(target[c]) for c in ("name", "kind", "target", "signed")))
    stdout().print(result)


@alerts_app.command("remove")
def remove(
    rule: Annotated[str, typer.Argument(help="Rule id, or a destination name.")],
) -> None:
    """Remove a rule (by id) or a destination (by name, with its rules)."""
    from licensewatch.intelligence.alerts.rules import remove_destination, remove_rule

    with intelligence_engine() as engine:
        if rule.isdigit():
            remove_rule(engine, int(rule))
        else:
            remove_destination(engine, rule)
    stdout().print("Removed.")


@alerts_app.command("test")
def test(name: Annotated[str, typer.Argument(help="Destination name.")]) -> None:
    """Send a test notice to a destination."""
    from licensewatch.intelligence.alerts.evaluate import send_test

    with intelligence_engine() as engine:
        notice = send_test(engine, name)
    if not notice.delivered:
        fail(f"not delivered: {notice.error}", 1)
    stdout().print(f"Delivered a test notice to {escape(name)}.")


@alerts_app.command("log")
def log(
    limit: Annotated[int, typer.Option("--limit")] = 50, output: FormatOpt = OutputFormat.TABLE
) -> None:
    """What was sent, newest first."""
    from licensewatch.intelligence.alerts.evaluate import alert_log

    with intelligence_engine() as engine:
        entries = alert_log(engine, limit)
    if output != OutputFormat.TABLE:
        print_json(entries)
        return
    columns = ["sent_at", "event", "tenant", "destination", "message", "delivered"]
    result = table("Alert log", columns)
    for entry in entries:
        result.add_row(*(str(entry[c]) for c in columns))
    stdout().print(result)


@alerts_app.command("run")
def run(tenant: Annotated[str | None, typer.Option("--tenant")] = None) -> None:
    """Evaluate the rules now (the daemon does this after every sync)."""
    from sqlalchemy import select

    from licensewatch.intelligence.alerts import evaluate_alerts
    from licensewatch.storage.database import session_scope
    from licensewatch.storage.models import Tenant

    with intelligence_engine() as engine:
        with session_scope(engine, write=False) as session:
            statement = select(Tenant.id, Tenant.name).order_by(Tenant.name)
            if tenant:
                statement = statement.where(Tenant.name == tenant)
            tenants = [(pk, name) for pk, name in session.execute(statement)]
        if tenant and not tenants:
            fail(f"no tenant named {tenant!r}")
        sent = [n for pk, _ in tenants for n in evaluate_alerts(engine, pk)]
    for notice in sent:
        mark = "[green]✓[/]" if notice.delivered else "[red]✗[/]"
        stdout().print(f"{mark} {notice.event}: {escape(notice.tenant)}: {escape(notice.message)}")
    if not sent:
        stdout().print("Nothing new: no condition opened or cleared.")
