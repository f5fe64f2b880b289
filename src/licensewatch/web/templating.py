"""Jinja2 templates, their filters, and `render`, which adds who is signed in and the CSRF token."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from licensewatch.intelligence.history import kind_label
from licensewatch.storage.models.base import utcnow
from licensewatch.web.auth import Caller
from licensewatch.web.charts import line_chart, sparkline

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
# Templates ship with the package and never change while it runs: no stat() per render.
TEMPLATES.env.auto_reload = False


def compile_templates() -> None:
    """Compile every template now (once per process; ≈ 0.2 s): each page's first request would
    otherwise pay for its templates, 20–40 ms at a worker's start."""
    for name in TEMPLATES.env.list_templates():
        TEMPLATES.env.get_template(name)  # kept in the environment's cache from now on


def number(value: int | float | None) -> str:
    if value is None:
        return "–"
    return f"{value:,.0f}".replace(",", "\u202f")  # narrow no-break space: 12 345


def percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f}%"


def timestamp(value: datetime | None) -> str:
    return "–" if value is None else f"{value:%Y-%m-%d %H:%M} UTC"


def day(value: datetime | None) -> str:
    return "–" if value is None else f"{value:%Y-%m-%d}"


def ago(value: datetime | None) -> str:
    """ "3 min ago", "in 12 days": coarse, for scanning a table."""
    if value is None:
        return "never"
    seconds = (utcnow() - value).total_seconds()
    future, seconds = seconds < 0, abs(seconds)
    for unit, size in (("day", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            amount = int(seconds // size)
            text = f"{amount} {unit}{'s' if unit == 'day' and amount != 1 else ''}"
            break
    else:
        text = "seconds" if not future else "moments"
    return f"in {text}" if future else f"{text} ago"


def days_left(value: datetime | None) -> int | None:
    return None if value is None else (value - utcnow()).days


def duration(ms: int | None) -> str:
    if ms is None:
        return "–"
    return f"{ms / 1000:.1f} s" if ms < 120_000 else f"{ms / 60000:.1f} min"


TEMPLATES.env.filters.update(
    number=number, percent=percent, timestamp=timestamp, day=day, ago=ago, duration=duration
)
TEMPLATES.env.globals.update(
    sparkline=sparkline, line_chart=line_chart, days_left=days_left, kind_label=kind_label
)


def render(
    request: Request,
    template: str,
    caller: Caller | None,
    status_code: int = 200,
    **context: Any,
) -> Response:
    """A page with the caller, the CSRF token and the active navigation entry (`nav`: a path)."""
    context.setdefault("nav", request.url.path)  # a page may name its own navigation entry
    context.update(
        caller=caller,
        csrf_token=caller.csrf_secret if caller else None,
        path=request.url.path,
    )
    return TEMPLATES.TemplateResponse(request, template, context, status_code=status_code)
