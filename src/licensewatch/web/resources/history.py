"""Sync runs, the licence change history and the audit log: newest first, paged."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from pydantic import BaseModel, BeforeValidator, Field

from licensewatch.intelligence.history import Change, kind_label
from licensewatch.services.audit import AuditView, recent
from licensewatch.storage.models import ChangeKind
from licensewatch.web import scope
from licensewatch.web.context import app_context, engine_of
from licensewatch.web.pages.changes import checked_query
from licensewatch.web.paging import CursorField, LimitField, OffsetField
from licensewatch.web.queries.changes import ChangeFilter, change_page
from licensewatch.web.queries.common import Page, tenant_refs
from licensewatch.web.queries.products import product_choices
from licensewatch.web.queries.runs import RunRow, sync_runs
from licensewatch.web.twins import Ask, Resource

MOMENT = "a day (YYYY-MM-DD) or an ISO 8601 date-time; without an offset it is UTC"


class RunParams(BaseModel):
    tenant: str | None = None
    limit: LimitField = 50
    offset: OffsetField = 0
    cursor: CursorField = ""


def load_runs(ask: Ask[RunParams]) -> Page[RunRow]:
    p = ask.params
    chosen = scope.chosen(tenant_refs(ask.session), p.tenant or "")
    return sync_runs(ask.session, chosen, limit=p.limit, offset=p.offset, cursor=p.cursor)


def runs_page(ask: Ask[RunParams], page: Page[RunRow]) -> dict[str, Any]:
    return {
        "tenants": tenant_refs(ask.session),
        "selected": ask.params.tenant or "",
        "page": page,
        "cursor": ask.params.cursor,
        # After "Sync now" (a redirect): a message on the page only, not a filter.
        "notice": ask.request.query_params.get("notice", ""),
        "running": app_context(ask.request).launcher.running(ask.session.connection()),
    }


class ChangeParams(BaseModel):
    tenant: str | None = None
    sku_id: Annotated[str, Field(description="only changes of this product (SKU id)")] = ""
    user: Annotated[str, Field(description="only this user principal name, in any case")] = ""
    user_id: Annotated[str, Field(description="only this user (directory object id)")] = ""
    # The page's form sends an empty kind for "any".
    kind: Annotated[ChangeKind | None, BeforeValidator(lambda v: v or None)] = None
    since: Annotated[str, Field(description=f"from this moment on: {MOMENT}")] = ""
    until: Annotated[str, Field(description=f"before this moment (a day: its end): {MOMENT}")] = ""
    limit: LimitField = 100
    offset: OffsetField = 0
    cursor: CursorField = ""

    def filters(self) -> ChangeFilter:
        kind = self.kind.value if self.kind is not None else ""
        return ChangeFilter(
            self.tenant or "", self.sku_id, self.user, self.user_id, kind, self.since, self.until
        )


def load_changes(ask: Ask[ChangeParams]) -> Page[Change]:
    p = ask.params
    query = checked_query(ask.session, p.filters())
    return change_page(ask.session, query, limit=p.limit, offset=p.offset, cursor=p.cursor)


def changes_page(ask: Ask[ChangeParams], page: Page[Change]) -> dict[str, Any]:
    filters, refs = ask.params.filters(), tenant_refs(ask.session)
    return {
        "tenants": refs,
        "filters": filters,
        "products": product_choices(ask.session, scope.chosen(refs, filters.tenant)),
        "kinds": [(k.value, kind_label(k.value)) for k in ChangeKind],
        "page": page,
        "query": urlencode(filters.params()),
        "cursor": ask.params.cursor,
    }


class AuditParams(BaseModel):
    limit: LimitField = 100
    offset: OffsetField = 0


def load_audit(ask: Ask[AuditParams]) -> list[AuditView]:
    # One row more than asked: the page's "older" link shows when there is one.
    return recent(engine_of(ask.request), ask.params.limit + 1, ask.params.offset)


def audit_page(ask: Ask[AuditParams], events: list[AuditView]) -> dict[str, Any]:
    limit = ask.params.limit
    return {
        "events": events[:limit],
        "offset": ask.params.offset,
        "more": len(events) > limit,
        "page_size": limit,
    }


RUNS = Resource(
    name="get_runs",
    api_path="/sync-runs",
    page_path="/sync",
    params=RunParams,
    load=load_runs,
    template="sync.html",
    page=runs_page,
    response_model=Page[RunRow],
    tag="sync",
    doc="Sync runs, newest first; follow `next_cursor` for older ones.",
)
CHANGES = Resource(
    name="get_changes",
    api_path="/changes",
    page_path="/changes",
    params=ChangeParams,
    load=load_changes,
    template="changes.html",
    page=changes_page,
    response_model=Page[Change],
    tag="changes",
    doc="Licence changes seen by syncs, newest first, with the products' friendly names.",
)
AUDIT = Resource(
    name="get_audit",
    response_model=list[dict[str, Any]],
    api_path="/audit",
    page_path="/audit",
    params=AuditParams,
    load=load_audit,
    dump=lambda ask, events: [e.to_dict() for e in events[: ask.params.limit]],
    template="audit.html",
    page=audit_page,
    tag="audit",
    admin=True,
    doc="Every administrative action, sign-in and refusal, newest first (never a secret).",
)
