"""Core views of the tables the quick reads use (`balance`, `status`, `tenant list`), no ORM.

Declaring the ORM models (`storage.models`) costs a CLI command more than its query: these
lightweight `table()`s name only the columns those reads need, typed where a value is
converted (timestamps, booleans). `tests/storage/test_core_tables.py` checks them against the
models, which stay the schema's one definition (Alembic compares those).
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Boolean, Integer, String, column, table

from licensewatch.storage.coltypes import UTCDateTime


class SyncStatus(StrEnum):
    """Life cycle of a sync run."""

    NEW = "NEW"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


class CredentialKind(StrEnum):
    """How a tenant's app authenticates."""

    SECRET = "secret"  # noqa: S105 - a kind name, not a secret
    CERTIFICATE = "certificate"


tenants = table(
    "tenants",
    column("id", Integer),
    column("name", String),
    column("directory_id", String),
    column("resolved_tenant_id", String),
    column("organization_name", String),
    column("client_id", String),
    column("cloud", String),
    column("authority_host", String),
    column("graph_endpoint", String),
    column("ca_bundle", String),
    column("sync_interval_seconds", Integer),
    column("dataset_id", Integer),
    column("delta_link_at", UTCDateTime),
    column("last_full_sync_at", UTCDateTime),
    column("allow_writes", Boolean),
    column("four_eyes", Boolean),
    column("created_at", UTCDateTime),
)
credentials = table(
    "credentials",
    column("tenant_id", Integer),
    column("kind", String),
    column("thumbprint", String),
    column("certificate_not_after", UTCDateTime),
    column("secret_expires_at", UTCDateTime),
)
skus = table(
    "skus",
    column("tenant_id", Integer),
    column("sku_id", String),
    column("sku_part_number", String),
    column("applies_to", String),
    column("capability_status", String),
    column("enabled", Integer),
    column("warning", Integer),
    column("suspended", Integer),
    column("locked_out", Integer),
    column("consumed", Integer),
    column("direct_assigned", Integer),
    column("group_assigned", Integer),
    column("assignment_errors", Integer),
)
subscriptions = table(
    "subscriptions",
    column("tenant_id", Integer),
    column("sku_id", String),
    column("status", String),
    column("is_trial", Boolean),
    column("total_licenses", Integer),
    column("next_lifecycle_at", UTCDateTime),
)
users = table(
    "users",
    column("dataset_id", Integer),
    column("id", String),
    column("tenant_id", Integer),
)
sync_runs = table(
    "sync_runs",
    column("id", Integer),
    column("tenant_id", Integer),
    column("status", String),
    column("finished_at", UTCDateTime),
    column("duration_ms", Integer),
    column("error_kind", String),
    column("error_message", String),
)
tenant_schedules = table(
    "tenant_schedules",
    column("tenant_id", Integer),
    column("next_sync_at", UTCDateTime),
    column("consecutive_failures", Integer),
    column("last_success_at", UTCDateTime),
    column("lease_owner", String),
    column("lease_expires_at", UTCDateTime),
)
catalog_products = table("catalog_products", column("sku_id", String), column("name", String))
catalog_service_plans = table(
    "catalog_service_plans", column("plan_id", String), column("friendly_name", String)
)
product_name_overrides = table(
    "product_name_overrides", column("sku_id", String), column("name", String)
)
