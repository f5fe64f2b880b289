"""The audit log is append-only: the database refuses UPDATE and DELETE; no code issues either."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from sqlalchemy import Engine, Executable, delete, text, update
from sqlalchemy.exc import DBAPIError

import licensewatch
from licensewatch.services.acting import acting_as
from licensewatch.services.audit import format_detail, note, recent
from licensewatch.storage.database import write_transaction
from licensewatch.storage.models.audit import AuditEvent

SOURCE = Path(licensewatch.__file__).parent
_CHANGING_SQL = re.compile(r"(UPDATE|DELETE FROM|TRUNCATE( TABLE)?) AUDIT_EVENTS")


def test_the_database_refuses_to_change_or_delete_an_event(engine: Engine) -> None:
    with acting_as("ada", "192.0.2.1"):
        note(engine, "tenant.added", {"tenant": "contoso"})
    attempts: list[Executable] = [
        update(AuditEvent).values(actor="mallory"),
        update(AuditEvent).values(detail=None).where(AuditEvent.action == "tenant.added"),
        delete(AuditEvent),
        text("DELETE FROM audit_events WHERE actor = 'ada'"),
    ]
    for statement in attempts:
        with (
            pytest.raises(DBAPIError, match="append-only"),
            write_transaction(engine) as connection,
        ):
            connection.execute(statement)
    [event] = recent(engine)
    assert (event.actor, event.address, event.detail) == ("ada", "192.0.2.1", "tenant=contoso")
    note(engine, "tenant.removed", {"tenant": "contoso"})
    assert [e.action for e in recent(engine)] == ["tenant.removed", "tenant.added"]
    assert recent(engine)[0].actor is None  # outside a request or command: nobody is named


def _writes_to_audit_events(tree: ast.AST) -> list[int]:
    """Lines calling update()/delete() on AuditEvent, or SQL text that updates or deletes it."""
    found: list[int] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name | ast.Attribute):
            name = node.func.id if isinstance(node.func, ast.Name) else node.func.attr
            args = [a.id for a in node.args if isinstance(a, ast.Name)]
            if name in {"update", "delete"} and "AuditEvent" in args:
                found.append(node.lineno)
            if name == "delete" and any(  # session.delete(event) of a loaded AuditEvent row
                isinstance(a, ast.Name) and "audit" in a.id.lower() for a in node.args
            ):
                found.append(node.lineno)
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
            continue
        if _CHANGING_SQL.search(" ".join(node.value.upper().split())):
            found.append(node.lineno)
    return found


def test_no_code_path_updates_or_deletes_an_event() -> None:
    offenders = {
        str(path.relative_to(SOURCE)): lines
        for path in SOURCE.rglob("*.py")
        if "migrations" not in path.parts
        and (lines := _writes_to_audit_events(ast.parse(path.read_text(encoding="utf-8"))))
    }
    assert offenders == {}
    # The scan itself finds what it is looking for.
    assert _writes_to_audit_events(ast.parse("delete(AuditEvent)"))
    assert _writes_to_audit_events(ast.parse("x = 'delete from audit_events'"))


def test_a_detail_never_takes_a_secret_named_field() -> None:
    for key in ("client_secret", "password", "webhook_url", "private_key"):
        with pytest.raises(ValueError, match="secret"):
            format_detail({key: "x"})
    masked = format_detail({"note": "client_secret=abcdefghijkl", "who": "ada lovelace"})
    assert masked == 'note="client_secret=***" who="ada lovelace"'
