"""CLI tables show tenant text as plain text: no Rich markup, no escape sequences, no bidi."""

from __future__ import annotations

import io

from rich.console import Console
from rich.text import Text

from licensewatch.cli.output import table


def _render(*cells: str | Text, title: str = "t") -> str:
    result = table(title, [f"c{i}" for i in range(len(cells))])
    result.add_row(*cells)
    out = io.StringIO()
    Console(file=out, width=200, force_terminal=True, color_system="truecolor").print(result)
    return out.getvalue()


def test_markup_in_a_cell_is_text() -> None:
    shown = _render("[/bold]", "[bold red]loud[/]", "[link=http://evil]x[/link]")
    assert "[/bold]" in shown
    assert "[bold red]loud[/]" in shown
    assert "[link=http://evil]x[/link]" in shown
    assert "\x1b]8;" not in shown  # no hyperlink was made


def test_escape_sequences_and_bidi_controls_are_removed() -> None:
    link = "\x1b]8;;http://evil\x1b\\click\x1b]8;;\x1b\\"  # OSC 8 hyperlink
    shown = _render("\x1b[8mhidden\x1b[0m", link, "a\u202eb")
    assert "[8mhidden[0m" in shown
    assert "\x1b[8m" not in shown
    assert "\x1b]8" not in shown
    assert "\u202e" not in shown
    assert "ab" in shown


def test_titles_are_text_and_styled_cells_still_work() -> None:
    shown = _render(Text("ok", style="green"), "a wide cell " * 3, title="Costs of [/bold]")
    assert "Costs of [/bold]" in shown
    assert "\x1b[32mok" in shown  # a Text passed by the caller keeps its style
