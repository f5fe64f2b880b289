"""Server-side SVG charts (no JavaScript, CSP-friendly): sparklines and a line chart."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime

from markupsafe import Markup, escape

# Every string put into Markup here is built from numbers and escape()d text (S704 reviewed).


def _points(values: Sequence[float], width: float, height: float, top: float, pad: float) -> str:
    if len(values) == 1:
        values = [values[0], values[0]]
    low, high = 0.0, max(max(values), top, 1.0)
    step = (width - 2 * pad) / (len(values) - 1)
    span = height - 2 * pad
    return " ".join(
        f"{pad + i * step:.1f},{pad + span - (v - low) / (high - low) * span:.1f}"
        for i, v in enumerate(values)
    )


def sparkline(consumed: Sequence[int], capacity: Sequence[int], label: str) -> Markup:
    """A 96×24 sparkline of consumed units against capacity (dashed)."""
    return _sparkline(tuple(consumed), tuple(capacity), label)


# A dashboard draws one per product on every request, from series that change only with a
# sync: the same numbers draw the same SVG (≈ 1 ms of a dashboard's CPU, kept per process).
@functools.lru_cache(maxsize=2048)
def _sparkline(consumed: tuple[int, ...], capacity: tuple[int, ...], label: str) -> Markup:
    if not consumed:
        return Markup('<span class="muted">–</span>')
    width, height = 96, 24
    top = float(max(max(capacity, default=0), max(consumed)))
    used = _points([float(v) for v in consumed], width, height, top, 2)
    cap = _points([float(v) for v in capacity], width, height, top, 2)
    return Markup(  # noqa: S704 - numbers and escaped text only
        f'<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(label)}">'
        f'<polyline class="spark-cap" points="{cap}"/>'
        f'<polyline class="spark-used" points="{used}"/></svg>'
    )


def line_chart(
    times: Sequence[datetime], series: Sequence[tuple[str, str, Sequence[int]]], label: str
) -> Markup:
    """A 720×220 chart: one polyline per (name, css class, values) with axis labels and a legend."""
    if not times:
        return Markup('<p class="muted">No history yet: it grows with every completed sync.</p>')
    width, height, left, bottom, top_pad, right = 720, 220, 48, 28, 12, 12
    top = max((max(values) for _, _, values in series if values), default=1) or 1
    plot_w, plot_h = width - left - right, height - bottom - top_pad
    count = max(len(times), 2)

    def x(i: int) -> float:
        return left + (i if len(times) > 1 else 0.5) * plot_w / (count - 1)

    def y(v: float) -> float:
        return top_pad + plot_h - v / top * plot_h

    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(label)}">'
    ]
    for fraction in (0, 0.5, 1):
        value = round(top * fraction)
        parts.append(
            f'<line class="grid" x1="{left}" x2="{width - right}" '
            f'y1="{y(value):.1f}" y2="{y(value):.1f}"/>'
            f'<text class="axis" x="{left - 6}" y="{y(value) + 4:.1f}" '
            f'text-anchor="end">{value}</text>'
        )
    for i in sorted({0, len(times) - 1}):
        anchor = "start" if i == 0 else "end"
        parts.append(
            f'<text class="axis" x="{x(i):.1f}" y="{height - 8}" text-anchor="{anchor}">'
            f"{times[i]:%Y-%m-%d %H:%M}</text>"
        )
    # Each point's x and time label once, for every series (365 points × 2 series a page).
    xs = [f"{x(i):.1f}" for i in range(len(times))]
    when = [f"{t:%Y-%m-%d %H:%M}" for t in times]
    for name, css, values in series:
        label = escape(name)
        ys = [f"{y(v):.1f}" for v in values]
        points = " ".join(f"{xs[i]},{ys[i]}" for i in range(len(values)))
        parts.append(f'<polyline class="{css}" points="{points}"><title>{label}</title></polyline>')
        parts.extend(
            f'<circle class="{css}-dot" cx="{xs[i]}" cy="{ys[i]}" r="2.5">'
            f"<title>{label} {v} · {when[i]}</title></circle>"
            for i, v in enumerate(values)
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - numbers and escaped text only
