"""Inventory rows written straight through the storage models, for route tests without Graph."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, update

from licensewatch.storage.database import session_scope
from licensewatch.storage.models import (
    Group,
    Sku,
    SkuServicePlan,
    SkuSnapshot,
    Subscription,
    SyncRun,
    SyncStatus,
    Tenant,
    User,
    UserLicense,
    utcnow,
)

E3 = "6fd2c87f-b296-42f0-b197-1e91e994b900"
E5 = "c7df2760-2c81-4ef7-b578-5b5392b571df"
GROUP = "11111111-2222-3333-4444-555555555555"


def user_id(index: int) -> str:
    return f"00000000-0000-0000-0000-{index:012d}"


def seed_inventory(engine: Engine, tenant_name: str, users: int = 60) -> int:
    """A completed run with two products (E3 over-assigned), a group, users and history."""
    now = utcnow()
    with session_scope(engine) as session:
        tenant = session.query(Tenant).filter(Tenant.name == tenant_name).one()
        tenant_pk = tenant.id
        runs = []
        for days in (2, 1, 0):
            run = SyncRun(
                tenant_id=tenant_pk,
                status=SyncStatus.COMPLETED,
                started_at=now - timedelta(days=days, minutes=1),
                finished_at=now - timedelta(days=days),
                duration_ms=4200,
                users_read=users,
                pages_read=1,
                requests=5,
            )
            session.add(run)
            session.flush()
            runs.append(run.id)
        dataset = runs[-1]
        e3_holders = users // 2 + 1  # 31 of 30 purchased: over-assigned
        session.add_all(
            [
                Sku(tenant_id=tenant_pk, sku_id=E3, sku_part_number="ENTERPRISEPACK", enabled=30,
                    consumed=e3_holders, direct_assigned=e3_holders - 10, group_assigned=10,
                    assignment_errors=1, capability_status="Enabled"),
                Sku(tenant_id=tenant_pk, sku_id=E5, sku_part_number="ENTERPRISEPREMIUM",
                    enabled=100, warning=5, consumed=20, direct_assigned=20,
                    capability_status="Enabled"),
            ]
        )  # fmt: skip
        session.flush()
        session.add_all(
            [
                SkuServicePlan(tenant_id=tenant_pk, sku_id=E3, service_plan_id=GROUP,
                               service_plan_name="EXCHANGE_S_ENTERPRISE",
                               provisioning_status="Success", applies_to="User"),
                Subscription(tenant_id=tenant_pk, id=f"sub-e3-{tenant_pk}", sku_id=E3,
                             sku_part_number="ENTERPRISEPACK", status="Enabled", total_licenses=30,
                             created_at=now - timedelta(days=300),
                             next_lifecycle_at=now + timedelta(days=65)),
                Subscription(tenant_id=tenant_pk, id=f"sub-e5-{tenant_pk}", sku_id=E5,
                             sku_part_number="ENTERPRISEPREMIUM", status="Warning",
                             total_licenses=105,
                             is_trial=True, created_at=now - timedelta(days=20),
                             next_lifecycle_at=now + timedelta(days=10)),
                Group(tenant_id=tenant_pk, id=GROUP, display_name="Sales licences"),
            ]
        )  # fmt: skip
        for index, run_id in enumerate(runs):
            for sku, enabled, consumed in ((E3, 30, e3_holders - 2 + index), (E5, 105, 20)):
                session.add(
                    SkuSnapshot(run_id=run_id, sku_id=sku, tenant_id=tenant_pk, enabled=enabled,
                                warning=0, suspended=0, locked_out=0, consumed=consumed,
                                captured_at=now - timedelta(days=2 - index))
                )  # fmt: skip
        for i in range(users):
            session.add(
                User(dataset_id=dataset, id=user_id(i), tenant_id=tenant_pk,
                     user_principal_name=f"user{i:03d}@{tenant_name}.example",
                     display_name=f"User {i:03d}", account_enabled=i % 10 != 9,
                     user_type="Guest" if i % 15 == 14 else "Member",
                     department="Sales" if i % 2 else "Finance", country="Germany")
            )  # fmt: skip
        session.flush()
        for i in range(e3_holders):
            by_group = i < 10
            session.add(
                UserLicense(dataset_id=dataset, user_id=user_id(i), sku_id=E3,
                            assigned_by_group=GROUP if by_group else None, state="Active",
                            error="CountViolation" if i == 0 else None)
            )  # fmt: skip
        for i in range(20):
            session.add(
                UserLicense(dataset_id=dataset, user_id=user_id(users - 1 - i), sku_id=E5,
                            assigned_by_group=None, state="Active")
            )  # fmt: skip
        # As a full sync publishes: the pointer and its user count together.
        session.execute(
            update(Tenant)
            .where(Tenant.id == tenant_pk)
            .values(dataset_id=dataset, user_count=users)
        )
    return dataset


def seed_plan(engine: Engine, tenant_name: str) -> int:
    """A draft change plan removing E3 from two seeded users (rows only: no audit event)."""
    from licensewatch.storage.models.plans import ChangePlan, ChangePlanLine

    with session_scope(engine) as session:
        tenant = session.query(Tenant).filter(Tenant.name == tenant_name).one()
        plan = ChangePlan(tenant_id=tenant.id, status="draft", source="manual", created_by="alice")
        session.add(plan)
        session.flush()
        for position in (1, 2):
            session.add(
                ChangePlanLine(
                    plan_id=plan.id, position=position, user_id=user_id(position),
                    user_principal_name=f"user{position}@contoso.com", action="remove",
                    sku_id=E3, reason="removed by hand", monthly_saving="36.00", currency="EUR",
                    state="pending", attempts=0,
                )
            )  # fmt: skip
        return plan.id
