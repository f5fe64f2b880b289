"""What pages, the API, the CLI and reports read: stored findings and costs, never recomputed
per request unless an input changed since they were stored (then rebuilt once, and read)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from licensewatch.intelligence.costs import TenantCosts
from licensewatch.intelligence.findings.base import Finding, FindingRule, csv_rows_of
from licensewatch.intelligence.read_models import costs_store, findings_store
from licensewatch.intelligence.read_models.build import ALL_RULES, refresh, stale_rules
from licensewatch.intelligence.read_models.fingerprint import Inputs, load_inputs
from licensewatch.storage.database import session_scope
from licensewatch.storage.models import Tenant, utcnow
from licensewatch.storage.queries import tenants_named

T = TypeVar("T")
ATTEMPTS = 3  # a model rebuilt and changed again before it could be read, twice: give up
# What a page lists per rule before its "next" link; the API's default page size.
PAGE_SIZE = 100


class ReadModelBusy(RuntimeError):
    """The inputs kept changing while the read model was rebuilt (try again)."""


def tenant_names(engine: Engine, tenant_name: str | None) -> list[str]:
    """The tenant asked for (LookupError when there is none), or every tenant by name."""
    with session_scope(engine, write=False) as session:
        return [tenant.name for tenant in tenants_named(session, tenant_name)]


def _fresh(
    engine: Engine,
    tenant_name: str,
    now: datetime | None,
    read: Callable[[Session, Tenant, Inputs], T | None],
    rules: Collection[FindingRule],
    costs: bool,
) -> T:
    """`read` in one snapshot in which the parts it reads are fresh, rebuilding them first."""
    for _ in range(ATTEMPTS):
        with session_scope(engine, write=False) as session:
            tenant = session.scalar(select(Tenant).where(Tenant.name == tenant_name))
            if tenant is None:
                raise LookupError(f"no tenant named {tenant_name!r}")
            result = read(session, tenant, load_inputs(session, tenant, now or utcnow()))
            if result is not None:
                return result
            tenant_pk = tenant.id
        refresh(engine, tenant_pk, now, rules=rules, costs=costs)
    raise ReadModelBusy(f"the findings of {tenant_name} changed while they were rebuilt")


def stored_findings(
    engine: Engine,
    tenant_name: str | None = None,
    *,
    now: datetime | None = None,
    limit: int | None = PAGE_SIZE,
    rule: FindingRule | None = None,
    cursor: str | None = None,
) -> list[Finding]:
    """Every rule's finding per tenant: counts and money, and the first `limit` affected rows
    (None: all of them) with the next page's cursor; `rule` and `cursor` page one rule."""
    rules = ALL_RULES if rule is None else (rule,)

    def read(session: Session, tenant: Tenant, inputs: Inputs) -> list[Finding] | None:
        every = findings_store.summaries(session, tenant.id)
        if any(key not in every or every[key].fingerprint != inputs.finding(key) for key in rules):
            return None
        stored = {key: every[key] for key in rules}
        found = {key: findings_store.finding_of(stored[key], tenant.name) for key in rules}
        if limit is not None and limit > 0 and cursor is None:
            pages = findings_store.first_pages(session, stored, limit)  # few queries, every rule
            for key, (affected, next_cursor) in pages.items():
                found[key].affected, found[key].next_cursor = affected, next_cursor
        elif limit != 0:
            for key in rules:
                found[key].affected, found[key].next_cursor = findings_store.page(
                    session, stored[key], cursor=cursor, limit=limit
                )
        return list(found.values())

    return [
        finding
        for name in _names(engine, tenant_name)
        for finding in _fresh(engine, name, now, read, rules, costs=False)
    ]


def _names(engine: Engine, tenant_name: str | None) -> list[str]:
    # One tenant is looked up by the read itself (LookupError there): no extra transaction.
    return [tenant_name] if tenant_name is not None else tenant_names(engine, None)


def findings_csv(
    engine: Engine, tenant_names_: list[str], *, now: datetime | None = None
) -> Iterator[dict[str, Any]]:
    """Every CSV row of every rule of these tenants, streamed from the stored rows.

    Each tenant is read in one snapshot in which its findings are fresh (rebuilt first when an
    input changed): a rebuild committed meanwhile cannot mix two builds into one export.
    """
    for name in tenant_names_:
        yield from _tenant_csv(engine, name, now)


def _tenant_csv(engine: Engine, name: str, now: datetime | None) -> Iterator[dict[str, Any]]:
    for _ in range(ATTEMPTS):
        with session_scope(engine, write=False) as session:
            tenant = session.scalar(select(Tenant).where(Tenant.name == name))
            if tenant is None:
                return  # removed since the list was taken
            inputs = load_inputs(session, tenant, now or utcnow())
            if not stale_rules(session, tenant.id, inputs):
                stored = findings_store.summaries(session, tenant.id)
                for rule in ALL_RULES:
                    finding = findings_store.finding_of(stored[rule], name)
                    rows = findings_store.stream(session, stored[rule])
                    yield from csv_rows_of(finding, rows)
                return
            tenant_pk = tenant.id
        refresh(engine, tenant_pk, now, costs=False)
    raise ReadModelBusy(f"the findings of {name} changed while they were rebuilt")


def stored_costs(
    engine: Engine, tenant_name: str | None = None, *, now: datetime | None = None
) -> list[TenantCosts]:
    """Costs of one tenant by name, or of every tenant, from the stored lines."""

    def read(session: Session, tenant: Tenant, inputs: Inputs) -> TenantCosts | None:
        stored = costs_store.summary(session, tenant.id)
        if stored is None or stored.fingerprint != inputs.costs():
            return None
        return costs_store.read_costs(session, stored, tenant.name)

    return [
        _fresh(engine, name, now, read, rules=(), costs=True)
        for name in _names(engine, tenant_name)
    ]
