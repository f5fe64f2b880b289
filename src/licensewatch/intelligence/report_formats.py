"""A report as HTML (e-mail body and download), plain text, XLSX workbook and zipped CSVs."""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from collections.abc import Sequence
from typing import Any

from jinja2 import Environment, select_autoescape
from openpyxl import Workbook
from openpyxl.styles import Font

from licensewatch.domain.balance import BALANCE_COLUMNS
from licensewatch.intelligence.findings import CSV_COLUMNS
from licensewatch.intelligence.report_content import Report
from licensewatch.tabular import pick, write_csv, xlsx_row

Section = tuple[Sequence[str], list[dict[str, Any]]]
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_BALANCE = BALANCE_COLUMNS  # the one balance schema (domain/balance.py)
_COSTS: tuple[str, ...] = ("tenant", "name", "purchased", "assigned", "unassigned", "price")
_COSTS += ("purchased_monthly", "assigned_monthly", "unassigned_monthly")
_CHANGES = ("tenant", "occurred_at", "kind", "user_principal_name", "product", "via_group", "note")

# Inline, not a stylesheet link: the report is also an e-mail body, and mail clients fetch nothing.
# The web app serves it with this style's hash in its CSP (`style-src 'self' 'sha256-…'`).
STYLE = (
    "body{font-family:system-ui,sans-serif;color:#1b1f24;max-width:60rem}"
    "table{border-collapse:collapse;margin:.5rem 0 1.5rem}"
    "th,td{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left;font-size:.9rem}"
    "th{background:#f6f8fa}.num{text-align:right}.bad{color:#b42318}.muted{color:#57606a}"
)
STYLE_HASH = "sha256-" + base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()

_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ r.title }}</title>
<style>{{ style | safe }}</style></head><body>
<h1>{{ r.title }}</h1>
<p class="muted">Generated {{ r.generated_at.strftime('%Y-%m-%d %H:%M') }} UTC;
changes since {{ r.since.strftime('%Y-%m-%d') }}.</p>
<h2>Balance of paid products</h2>
<table><tr><th>Tenant</th><th>Product</th><th>Purchased</th><th>Grace</th><th>Trial</th>
<th>Assigned</th><th>Available</th><th>Renewal</th></tr>
{% for b in r.balance if b.paid %}<tr><td>{{ b.tenant }}</td><td>{{ b.name }}</td>
<td class="num">{{ b.purchased }}</td><td class="num">{{ b.grace }}</td>
<td class="num">{{ b.trial }}</td><td class="num">{{ b.consumed }}</td>
<td class="num{% if b.over_assigned or b.lapsed %} bad{% endif %}">{{ b.available }}
{% if b.lapsed %}(lapsed, {{ b.lapsed_holders }} holders){% endif %}</td>
<td>{{ b.next_renewal.strftime('%Y-%m-%d') if b.next_renewal else '-' }}{% if b.renewal_in_grace %}
(grace ends){% endif %}</td></tr>
{% endfor %}</table>
{% set others = r.balance | rejectattr("paid") | list %}{% if others %}
<p class="muted">Free and tenant-wide products, not counted: {% for b in others %}{{ b.name
}}{{ ", " if not loop.last }}{% endfor %}.</p>{% endif %}
<h2>Costs per month</h2>
<table><tr><th>Tenant</th><th>Purchased</th><th>Assigned</th><th>Unassigned</th></tr>
{% for c in r.costs %}<tr><td>{{ c.tenant }}</td><td>{{ c.purchased.text() }}</td>
<td>{{ c.assigned.text(unpriced=False) }}</td><td>{{ c.unassigned.text(unpriced=False) }}</td></tr>
{% endfor %}</table>
<h2>Findings</h2>
{% for f in r.findings %}{% if f.count or f.unavailable %}
<h3>{{ f.tenant }}: {{ f.title }}{% if not f.unavailable %} ({{ f.count }}){% endif %}</h3>
{% if f.unavailable %}<p class="muted">Unavailable: {{ f.unavailable }}</p>{% else %}
{% if f.cost is not none %}<p>Money at stake: {{ f.cost.text() }} per month</p>{% endif %}
<p>{{ f.fix }}</p><ul>{% for a in f.affected[:50] %}<li>{{ a.key if f.subject == 'users'
else a.name }}: {{ a.detail }}</li>{% endfor %}{% if f.affected|length > 50 %}
<li>… {{ f.affected|length - 50 }} more in the attachment</li>{% endif %}</ul>{% endif %}
{% endif %}{% endfor %}
<h2>Recent changes ({{ r.changes|length }})</h2>
<table><tr><th>When</th><th>Tenant</th><th>Change</th><th>User</th><th>Product</th></tr>
{% for c in r.changes[:200] %}<tr><td>{{ c.occurred_at }}</td><td>{{ c.tenant }}</td>
<td>{{ c.kind }}</td><td>{{ c.user_principal_name }}</td><td>{{ c.product }}</td></tr>
{% endfor %}</table>
</body></html>
"""
_ENV = Environment(autoescape=select_autoescape(default=True, default_for_string=True))


def render_html(report: Report) -> str:
    return _ENV.from_string(_TEMPLATE).render(r=report, style=STYLE)


def render_text(report: Report) -> str:
    """The plain-text alternative of the e-mail."""
    lines = [report.title, f"Generated {report.generated_at:%Y-%m-%d %H:%M} UTC", ""]
    for costs in report.costs:
        lines.append(
            f"{costs.tenant}: purchased {costs.purchased.text()} / month, "
            f"unassigned {costs.unassigned.text()} / month"
        )
    lines.append("")
    for finding in report.findings:
        if finding.unavailable:
            lines.append(f"{finding.tenant}: {finding.title}: unavailable")
        elif finding.count:
            lines.append(f"{finding.tenant}: {finding.title}: {finding.count}")
    lines += ["", f"{len(report.changes)} licence changes; details in the attachments."]
    return "\n".join(lines) + "\n"


def sections(report: Report) -> dict[str, Section]:
    """The report's tables: name → (columns, rows); CSV and XLSX write exactly these."""
    costs = [
        {
            "tenant": c.tenant,
            **p.to_dict(),
            "price": p.price or "no price",
            "purchased_monthly": p.purchased_cost.text(),
            "assigned_monthly": p.assigned_cost.text(),
            "unassigned_monthly": p.unassigned_cost.text(),
        }
        for c in report.costs
        for p in c.products
    ]
    breakdown = [
        {"tenant": c.tenant, "attribute": attribute, "value": value, "licences": units}
        | {"monthly_cost": cost.text()}
        for c in report.costs
        for attribute, lines in c.breakdowns.items()
        for value, units, cost in lines
    ]
    return {
        "balance": (
            _BALANCE,
            [dict(zip(_BALANCE, b.csv_cells(), strict=True)) for b in report.balance],
        ),
        "costs": (_COSTS, costs),
        "cost_breakdown": (
            ("tenant", "attribute", "value", "licences", "monthly_cost"),
            breakdown,
        ),
        "findings": (CSV_COLUMNS, [row for f in report.findings for row in f.csv_rows()]),
        "changes": (_CHANGES, report.changes),
    }


def _csv(columns: Sequence[str], rows: list[dict[str, Any]]) -> bytes:
    buffer = io.StringIO()
    write_csv(buffer, columns, (pick(row, columns) for row in rows))
    return buffer.getvalue().encode("utf-8-sig")


def to_csv_zip(report: Report) -> bytes:
    """One CSV per section in a ZIP archive."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, (columns, rows) in sections(report).items():
            archive.writestr(f"{name}.csv", _csv(columns, rows))
    return buffer.getvalue()


def to_xlsx(report: Report) -> bytes:
    """A workbook with one sheet per section."""
    workbook = Workbook()
    workbook.remove(workbook.worksheets[0])
    for name, (columns, rows) in sections(report).items():
        sheet = workbook.create_sheet(name)
        sheet.append(xlsx_row(sheet, columns))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append(xlsx_row(sheet, pick(row, columns)))
        sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def attachments(report: Report) -> list[tuple[str, str, bytes]]:
    """What the e-mail carries: the workbook and the findings as CSV."""
    stamp = f"{report.generated_at:%Y-%m-%d}"
    columns, rows = sections(report)["findings"]
    return [
        (f"licensewatch-{stamp}.xlsx", XLSX_MIME, to_xlsx(report)),
        (f"licensewatch-findings-{stamp}.csv", "text/csv", _csv(columns, rows)),
    ]
