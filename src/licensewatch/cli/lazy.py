"""A command group that imports a command's module only when that command runs."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import typer
from typer import _click as click  # Typer vendors Click: its groups speak these types
from typer.core import TyperCommand, TyperGroup, TyperOption


@dataclass(frozen=True, slots=True)
class LazyCommand:
    """Where a command lives (module, attribute: a function or a Typer) and its one-line help."""

    module: str
    attribute: str
    help: str

    def load(self, name: str) -> click.Command:
        """The real Click command, built by Typer from the imported function or sub-app."""
        target = getattr(importlib.import_module(self.module), self.attribute)
        holder = typer.Typer()
        if isinstance(target, typer.Typer):
            holder.add_typer(target, name=name)
        else:
            holder.command(name)(target)
        return typer.main.get_group(holder).commands[name]


class LazyGroup(TyperGroup):
    """Lists every command from a static table; imports one only to run it or show its help.

    `licensewatch --help` then costs typer alone, not SQLAlchemy, FastAPI or MSAL (issue 12:
    every command module used to be imported for every invocation). The group's own help is
    Click's plain layout (`rich_markup_mode=None` in `cli/__init__.py`): Typer's rich one
    imports rich's Markdown, Syntax and Pygments, which more than doubled its cost.
    """

    lazy_commands: Mapping[str, LazyCommand] = {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*self.lazy_commands, *(n for n in self.commands if n not in self.lazy_commands)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The loaded command, or a stand-in carrying the name and help for the listing."""
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        lazy = self.lazy_commands.get(cmd_name)
        if lazy is None:
            return None
        return TyperCommand(name=cmd_name, help=lazy.help, short_help=lazy.help)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Each command with its whole one-line help, wrapped rather than cut at the width."""
        rows = [(name, command.help) for name, command in self.lazy_commands.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """Imports the named command (running it, its help, shell completion), then resolves."""
        name = args[0] if args else ""
        if name in self.lazy_commands and name not in self.commands:
            self.commands[name] = self.lazy_commands[name].load(name)
        elif name and name not in self.commands and not name.startswith("-"):
            # An unknown name fails; its "did you mean" suggestions come from `self.commands`.
            for known in self.lazy_commands:
                self.commands.setdefault(known, TyperCommand(name=known))
        return super().resolve_command(ctx, args)


def _display_type_rich(self: TyperOption, ctx: click.Context) -> str | None:
    """An option's type in help, except for flags: `--all <bool>` reads as if it took a value."""
    if self.is_flag:
        return None
    shown: str | None = _TYPER_DISPLAY_TYPE(self, ctx)
    return shown


_TYPER_DISPLAY_TYPE: Any = TyperOption.display_type_rich
setattr(TyperOption, "display_type_rich", _display_type_rich)  # noqa: B010 (mypy: method-assign)
