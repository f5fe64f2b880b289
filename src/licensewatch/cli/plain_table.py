"""A Rich table that shows text cells as they are (imported only when a table is printed)."""

from __future__ import annotations

from typing import Any

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from licensewatch.domain.text import clean_text


class PlainTable(Table):
    """A Rich table whose text cells are shown as they are: never read as markup or escapes.

    Cells hold tenant data (a department of `[/bold]` is Rich markup, ESC starts a terminal
    escape sequence), so a str cell becomes a `Text` without markup and without control or bidi
    characters. Style a cell by passing a `Text` yourself.
    """

    def add_row(self, *renderables: RenderableType | None, **options: Any) -> None:
        cells = [Text(clean_text(cell)) if isinstance(cell, str) else cell for cell in renderables]
        super().add_row(*cells, **options)
