"""docs/cli.md documents every command, sub-command and option the CLI has (read from the code).

Each entry of `cli/__init__.py`'s lazy COMMANDS table is loaded, and its Click tree walked. A
command is documented when a `##` section of docs/cli.md names its path in a code span
(`licensewatch tenant add NAME`, `user create|list`, `token revoke ID`); each visible option when
one of its names (`--no-serve` for `--serve/--no-serve`) is in a section that documents the command.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import product
from pathlib import Path

import pytest
from typer import _click as click
from typer.core import TyperGroup, TyperOption

from licensewatch.cli import COMMANDS

CLI_MD = Path(__file__).resolve().parents[2] / "docs" / "cli.md"
_WORD = re.compile(r"[a-z][a-z-]*(\|[a-z][a-z-]*)*")


def walk(
    command: click.Command, path: tuple[str, ...]
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    yield path, command
    if isinstance(command, TyperGroup):
        for name, sub in command.commands.items():
            if not sub.hidden:
                yield from walk(sub, (*path, name))


def commands() -> dict[tuple[str, ...], click.Command]:
    return {
        path: command
        for name, lazy in COMMANDS.items()
        for path, command in walk(lazy.load(name), (name,))
    }


def options(command: click.Command) -> list[tuple[str, ...]]:
    """Each visible option's names (`--help` aside: every command has it)."""
    return [
        (*param.opts, *param.secondary_opts)
        for param in command.params
        if isinstance(param, TyperOption) and not param.hidden
    ]


def paths_in(span: str) -> set[tuple[str, ...]]:
    """Command paths a code span names: `user create|list NAME` → user, user create, user list."""
    words = span.split()
    if words[:1] == ["licensewatch"]:
        words = words[1:]
    leading: list[list[str]] = []
    for word in words:
        if not _WORD.fullmatch(word):
            break
        leading.append(word.split("|"))
    found: set[tuple[str, ...]] = set()
    for end in range(1, len(leading) + 1):
        found.update(product(*leading[:end]))
    return found


def sections() -> list[tuple[set[tuple[str, ...]], str]]:
    """Per `##` section of docs/cli.md: the command paths it names and its text."""
    text = CLI_MD.read_text(encoding="utf-8")
    parts = re.split(r"^(?=## )", text, flags=re.MULTILINE)
    found = []
    for part in parts:
        spans = re.findall(r"`([^`\n]+)`", part)
        named = set().union(*(paths_in(span) for span in spans)) if spans else set()
        found.append((named, part))
    return found


COMMAND_TREE = commands()
SECTIONS = sections()


def _documenting(path: tuple[str, ...]) -> list[str]:
    return [text for named, text in SECTIONS if path in named]


@pytest.mark.parametrize("path", sorted(COMMAND_TREE), ids=" ".join)
def test_command_and_its_options_are_documented(path: tuple[str, ...]) -> None:
    texts = _documenting(path)
    assert texts, f"`licensewatch {' '.join(path)}` has no section in docs/cli.md"
    missing = [
        "/".join(names)
        for names in options(COMMAND_TREE[path])
        if not any(re.search(rf"{re.escape(n)}(?![\w-])", t) for n in names for t in texts)
    ]
    assert missing == [], f"`{' '.join(path)}` options without an entry in docs/cli.md: {missing}"


def test_the_walk_sees_sub_commands_and_options() -> None:
    # So that a broken walk cannot pass by finding nothing to check.
    assert ("tenant", "add") in COMMAND_TREE
    assert ("--tenant-id",) in options(COMMAND_TREE[("tenant", "add")])
    assert len(COMMAND_TREE) > len(COMMANDS)


def test_documented_commands_exist() -> None:
    # A command that was removed or renamed must leave the docs too (headings only: body text
    # also names things that are not commands, e.g. `balance` the number).
    headings = [line for line in CLI_MD.read_text(encoding="utf-8").splitlines()]
    named: set[tuple[str, ...]] = set()
    for line in headings:
        if line.startswith("## `licensewatch "):
            for span in re.findall(r"`([^`\n]+)`", line):
                named |= {p for p in paths_in(span) if p[0] in COMMANDS}
    assert named, "no command headings found"
    assert sorted(p for p in named if p not in COMMAND_TREE) == []


def test_the_span_reader() -> None:
    assert paths_in("licensewatch user create|list NAME") == {
        ("user",),
        ("user", "create"),
        ("user", "list"),
    }
    assert paths_in("token create USERNAME [--name TEXT]") == {("token",), ("token", "create")}
