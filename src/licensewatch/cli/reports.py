"""Placeholder: sync and balance commands, filled in by its owner."""

import typer


def register_report_commands(app: typer.Typer) -> None:
    """Adds the top-level `sync` and `balance` commands."""
