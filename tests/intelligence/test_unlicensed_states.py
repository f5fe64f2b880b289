"""Who counts as unlicensed, by the assignment states Microsoft documents, on both engines.

Microsoft Graph's licenseAssignmentState.state is Active, ActiveWithError, Disabled or Error
(https://learn.microsoft.com/graph/api/resources/licenseassignmentstate); Entra's group-based
licensing says a user whose group assignment is in error (e.g. CountViolation, no unit left)
is not assigned the licence
(https://learn.microsoft.com/entra/identity/users/licensing-groups-resolve-problems).
"""

from __future__ import annotations

from sqlalchemy import Engine, insert, select, update

from database_fixtures import add_tenant
from licensewatch.domain.assignment_states import ASSIGNED_STATES
from licensewatch.intelligence.read_models.holders_store import publish_holders
from licensewatch.storage.database import session_scope
from licensewatch.storage.models import SyncRun, SyncStatus, Tenant, User, UserLicense
from licensewatch.storage.models.base import utcnow
from licensewatch.storage.models.holders import UnlicensedUser
from licensewatch.web.queries.common import tenant_refs
from licensewatch.web.queries.user_list import UserFilter, search_users

SKU = "11111111-0000-4000-8000-000000000001"
OTHER = "11111111-0000-4000-8000-000000000002"
GROUP = "22222222-0000-4000-8000-000000000001"
# user → its assignments (sku, state, assigning group); the expected verdict in the name.
USERS: dict[str, list[tuple[str, str, str | None]]] = {
    "active-licensed": [(SKU, "Active", None)],
    "active-with-error-licensed": [(SKU, "ActiveWithError", GROUP)],
    "group-error-unlicensed": [(SKU, "Error", GROUP)],  # CountViolation through a group
    "disabled-unlicensed": [(SKU, "Disabled", None)],
    "error-and-active-licensed": [(SKU, "Error", GROUP), (OTHER, "Active", None)],
    "none-unlicensed": [],
}


def _seed(engine: Engine) -> None:
    tenant = add_tenant(engine, "contoso")
    with session_scope(engine) as session:
        run = SyncRun(tenant_id=tenant, status=SyncStatus.COMPLETED, started_at=utcnow())
        session.add(run)
        session.flush()
        dataset = run.id
    with engine.begin() as db:
        db.execute(
            insert(User),
            [{"dataset_id": dataset, "id": name, "tenant_id": tenant,
              "user_principal_name": f"{name}@contoso.example"} for name in USERS],
        )  # fmt: skip
        db.execute(
            insert(UserLicense),
            [{"dataset_id": dataset, "user_id": name, "sku_id": sku, "state": state,
              "assigned_by_group": group}
             for name, held in USERS.items() for sku, state, group in held],
        )  # fmt: skip
        db.execute(update(Tenant).where(Tenant.id == tenant).values(dataset_id=dataset))
    with engine.begin() as connection:
        publish_holders(connection, tenant)


def test_the_assigned_states_are_the_two_microsoft_applies() -> None:
    assert set(ASSIGNED_STATES) == {"Active", "ActiveWithError"}


def test_unlicensed_users_by_documented_state(engine: Engine) -> None:
    _seed(engine)
    expected = {name for name in USERS if name.endswith("-unlicensed")}
    with engine.connect() as connection:
        stored = set(connection.scalars(select(UnlicensedUser.user_id)))
    assert stored == expected
    with session_scope(engine, write=False) as session:
        refs = tenant_refs(session)
        unlicensed = search_users(session, refs, UserFilter(licensed="no"))
        licensed = search_users(session, refs, UserFilter(licensed="yes"))
    assert {row.id for row in unlicensed.items} == expected
    assert {row.id for row in licensed.items} == set(USERS) - expected
