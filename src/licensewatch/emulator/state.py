"""In-memory state of emulated Entra tenants: apps, SKUs, users, groups, and a change log."""

from __future__ import annotations

import bisect
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from licensewatch.emulator.apps import App
from licensewatch.emulator.consumption import ConsumedUnits
from licensewatch.emulator.usage_model import TenantUsage

# licenseAssignmentState.state values meaning the licence is really assigned (counts as consumed).
ASSIGNED_STATES = frozenset({"Active", "ActiveWithError"})


def utcnow() -> datetime:
    """The emulator's clock (one place, so tests can reason about it)."""
    return datetime.now(UTC)


def new_guid() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True, slots=True)
class ServicePlan:
    plan_id: str
    name: str
    applies_to: str = "User"
    service_type: str | None = None


@dataclass(frozen=True, slots=True)
class Product:
    """A licensable product (a SKU) as Microsoft defines it."""

    sku_id: str
    part_number: str
    display_name: str
    service_plans: tuple[ServicePlan, ...]
    applies_to: str = "User"


@dataclass(slots=True)
class Subscription:
    """A commerce subscription (directory/subscriptions); its units feed the SKU's prepaidUnits."""

    id: str
    commerce_subscription_id: str
    sku_id: str
    status: str  # Enabled | Warning | Suspended | LockedOut | Deleted
    total_licenses: int
    is_trial: bool
    created: datetime
    next_lifecycle: datetime | None
    owner_id: str | None = None


@dataclass(slots=True)
class LicenseAssignment:
    """One licenseAssignmentState: direct when assigned_by_group is None."""

    sku_id: str
    assigned_by_group: str | None
    disabled_plans: tuple[str, ...] = ()
    state: str = "Active"  # Active | ActiveWithError | Disabled | Error
    error: str = (
        "None"  # None | CountViolation | MutuallyExclusiveViolation | DependencyViolation | ...
    )
    last_updated: datetime = field(default_factory=utcnow)


@dataclass(slots=True)
class SignInActivity:
    last_sign_in: datetime | None
    last_non_interactive_sign_in: datetime | None
    last_successful_sign_in: datetime | None


@dataclass(slots=True)
class User:
    id: str
    user_principal_name: str
    display_name: str
    given_name: str | None = None
    surname: str | None = None
    mail: str | None = None
    account_enabled: bool = True
    user_type: str = "Member"  # Member | Guest
    department: str | None = None
    job_title: str | None = None
    company_name: str | None = None
    country: str | None = None
    usage_location: str | None = None
    city: str | None = None
    office_location: str | None = None
    created: datetime | None = None
    employee_id: str | None = None
    cost_center: str | None = None  # served as employeeOrgData.costCenter
    on_premises_sync_enabled: bool | None = None
    assignments: list[LicenseAssignment] = field(default_factory=list)
    sign_in: SignInActivity | None = None
    password: str | None = None  # people who can sign in on the emulator's authorize page
    deleted: bool = False
    # Version of the tenant's change log at this user's last change (drives delta).
    version: int = 0

    def assigned_sku_ids(self) -> list[str]:
        """assignedLicenses: every SKU the user really holds, direct or inherited, once each."""
        seen: list[str] = []
        for a in self.assignments:
            if a.state in ASSIGNED_STATES and a.sku_id not in seen:
                seen.append(a.sku_id)
        return seen

    def disabled_plans_for(self, sku_id: str) -> tuple[str, ...]:
        # Graph reports the direct assignment's disabled plans first; a group's otherwise.
        candidates = [a for a in self.assignments if a.sku_id == sku_id]
        candidates.sort(key=lambda a: a.assigned_by_group is not None)
        return candidates[0].disabled_plans if candidates else ()


@dataclass(slots=True)
class Group:
    id: str
    display_name: str
    mail_nickname: str
    # (sku_id, disabled plan ids): the licences members inherit.
    assigned_licenses: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    member_ids: list[str] = field(default_factory=list)
    created: datetime = field(default_factory=utcnow)


@dataclass
class Tenant:
    """One emulated Entra tenant; mutations go through methods so the change log stays right."""

    tenant_id: str
    domain: str
    display_name: str
    has_premium: bool = True  # Entra ID P1/P2: needed for signInActivity
    apps: dict[str, App] = field(default_factory=dict)
    products: dict[str, Product] = field(default_factory=dict)  # subscribed SKUs by sku_id
    subscriptions: list[Subscription] = field(default_factory=list)
    groups: dict[str, Group] = field(default_factory=dict)
    created: datetime = field(default_factory=utcnow)
    # Users in a stable order (deleted ones stay as tombstones): skiptokens stay valid.
    _order: list[str] = field(default_factory=list)
    _users: dict[str, User] = field(default_factory=dict)
    _by_upn: dict[str, str] = field(default_factory=dict)
    # Change log: parallel lists (version, user id), versions strictly increasing.
    _log_versions: list[int] = field(default_factory=list)
    _log_ids: list[str] = field(default_factory=list)
    version: int = 0
    # Delta tokens minted before this epoch get 410 (control API: expire delta tokens).
    delta_epoch: int = 0
    _consumed: ConsumedUnits = field(default_factory=ConsumedUnits)
    _deleted_items: dict[str, User] = field(default_factory=dict)  # soft-deleted, restorable
    _deleted_groups: dict[str, list[str]] = field(default_factory=dict)
    # assignLicense calls that changed a user, by user id (truth shows them: nothing twice).
    licence_writes: dict[str, int] = field(default_factory=dict)
    usage: TenantUsage = field(default_factory=TenantUsage)  # the usage reports' source

    # ---- reading -------------------------------------------------------------------------------
    def user_count(self) -> int:
        return len(self._users)

    def user(self, key: str) -> User | None:
        """A live user by id or userPrincipalName (case-insensitive)."""
        user = self._users.get(key)
        if user is None:
            uid = self._by_upn.get(key.lower())
            user = self._users.get(uid) if uid else None
        return user

    def iter_users_from(self, position: int) -> Iterator[tuple[int, User]]:
        """Live users in stable order from a position, as (position, user), without copying."""
        order, users = self._order, self._users
        for pos in range(position, len(order)):
            user = users.get(order[pos])
            if user is not None:
                yield pos, user

    def user_at(self, position: int) -> User | None:
        """The live user at a stable position (None for a tombstone)."""
        return self._users.get(self._order[position])

    def order_length(self) -> int:
        return len(self._order)

    def changed_since(self, version: int) -> list[str]:
        """Ids of users (live or deleted) changed after a version, each once, oldest first."""
        start = bisect.bisect_right(self._log_versions, version)
        seen: dict[str, None] = {}
        for uid in self._log_ids[start:]:
            seen.pop(uid, None)
            seen[uid] = None
        return list(seen)

    def changed_between(self, after: int, upto: int) -> list[str]:
        """Ids of users changed in (after, upto], each once, oldest first (stable for paging)."""
        start = bisect.bisect_right(self._log_versions, after)
        stop = bisect.bisect_right(self._log_versions, upto)
        seen: dict[str, None] = {}
        for uid in self._log_ids[start:stop]:
            seen.pop(uid, None)
            seen[uid] = None
        return list(seen)

    def deleted_user(self, user_id: str) -> bool:
        return user_id not in self._users

    def removal_reason(self, user_id: str) -> str:
        """Delta's `@removed` reason: "changed" when soft-deleted (restorable), else "deleted"."""
        return "changed" if user_id in self._deleted_items else "deleted"

    def consumed_units(self) -> dict[str, int]:
        """consumedUnits per SKU: users really holding it (see consumption.py)."""
        counts = self._consumed.update(self.version, self._users, self.changed_between)
        found = dict.fromkeys(self.products, 0)
        found.update((sku_id, n) for sku_id, n in counts.items() if n or sku_id in found)
        return found

    def prepaid_units(self, sku_id: str) -> dict[str, int]:
        """prepaidUnits of a SKU: the subscriptions' licences summed by their status."""
        units = {"enabled": 0, "warning": 0, "suspended": 0, "lockedOut": 0}
        key = {"Enabled": "enabled", "Warning": "warning", "Suspended": "suspended"}
        for sub in self.subscriptions:
            if sub.sku_id == sku_id and sub.status != "Deleted":
                units[key.get(sub.status, "lockedOut")] += sub.total_licenses
        return units

    def capability_status(self, sku_id: str) -> str:
        """Enabled when a unit is enabled, else the state of the units left; Deleted if none."""
        units = self.prepaid_units(sku_id)
        if units["enabled"]:
            return "Enabled"
        for name, status in (("warning", "Warning"), ("suspended", "Suspended")):
            if units[name]:
                return status
        deleted = any(s.sku_id == sku_id and s.status == "Deleted" for s in self.subscriptions)
        return "Deleted" if deleted and not units["lockedOut"] else "LockedOut"

    # ---- mutation --------------------------------------------------------------------------------
    def _touch(self, user: User) -> None:
        self.version += 1
        user.version = self.version
        self._log_versions.append(self.version)
        self._log_ids.append(user.id)

    def add_user(self, user: User) -> User:
        if user.id in self._users or user.user_principal_name.lower() in self._by_upn:
            raise ValueError(f"user {user.user_principal_name} already exists")
        self._order.append(user.id)
        self._users[user.id] = user
        self._by_upn[user.user_principal_name.lower()] = user.id
        self._touch(user)
        return user

    def delete_user(self, user_id: str, *, soft: bool = False) -> User:
        """Delete a user: soft (to deleted items, restorable for 30 days) or permanently."""
        user = self._require(user_id)
        if soft:
            self._deleted_items[user.id] = user
            # Entra restores a soft-deleted user's group memberships with it.
            self._deleted_groups[user.id] = [
                g.id for g in self.groups.values() if user.id in g.member_ids
            ]
        del self._users[user.id]
        del self._by_upn[user.user_principal_name.lower()]
        for group in self.groups.values():
            if user.id in group.member_ids:
                group.member_ids.remove(user.id)
        user.deleted = True
        self._touch(user)
        return user

    def restore_user(self, user_id: str) -> User:
        """Bring a soft-deleted user back from deleted items (delta serves it as a plain item)."""
        user = self._deleted_items.pop(user_id, None)
        if user is None:
            raise KeyError(user_id)
        if user.user_principal_name.lower() in self._by_upn:
            raise ValueError(f"user {user.user_principal_name} already exists")
        user.deleted = False
        for group_id in self._deleted_groups.pop(user.id, []):
            if group_id in self.groups:
                self.groups[group_id].member_ids.append(user.id)
        self._users[user.id] = user
        self._by_upn[user.user_principal_name.lower()] = user.id
        self._touch(user)
        return user

    def update_user(self, user_id: str, **changes: object) -> User:
        user = self._require(user_id)
        for name, value in changes.items():
            if not hasattr(user, name) or name in {"id", "assignments", "version", "deleted"}:
                raise ValueError(f"cannot change {name!r}")
            setattr(user, name, value)
        self._touch(user)
        return user

    def assign(self, user_id: str, assignment: LicenseAssignment) -> None:
        user = self._require(user_id)
        user.assignments = [
            a
            for a in user.assignments
            if not (
                a.sku_id == assignment.sku_id
                and a.assigned_by_group == assignment.assigned_by_group
            )
        ]
        user.assignments.append(assignment)
        self._touch(user)

    def unassign(self, user_id: str, sku_id: str, group_id: str | None = None) -> None:
        user = self._require(user_id)
        before = len(user.assignments)
        user.assignments = [
            a
            for a in user.assignments
            if not (a.sku_id == sku_id and a.assigned_by_group == group_id)
        ]
        if len(user.assignments) == before:
            raise ValueError(f"{user.user_principal_name} has no such assignment of {sku_id}")
        self._touch(user)

    def touch_user(self, user_id: str) -> None:
        """Record a change made to a user outside the helpers above."""
        self._touch(self._require(user_id))

    def rename_user(self, user_id: str, user_principal_name: str) -> User:
        """Change a user's userPrincipalName, keeping the by-UPN index right."""
        user = self._require(user_id)
        taken = self._by_upn.get(user_principal_name.lower())
        if taken is not None and taken != user.id:
            raise ValueError(f"user {user_principal_name} already exists")
        del self._by_upn[user.user_principal_name.lower()]
        self._by_upn[user_principal_name.lower()] = user.id
        user.user_principal_name = user_principal_name
        self._touch(user)
        return user

    def _require(self, user_id: str) -> User:
        user = self.user(user_id)
        if user is None:
            raise KeyError(user_id)
        return user


@dataclass
class World:
    """Everything the emulator serves: tenants by id, plus how tokens are made."""

    tenants: dict[str, Tenant] = field(default_factory=dict)
    token_lifetime_seconds: int = 3599
    # Older delta tokens get 410, as Graph does after seven days for directory objects.
    delta_token_max_age_seconds: int = 7 * 24 * 3600
    # Every report download served: (report function, whether an Authorization header came).
    report_downloads: list[tuple[str, bool]] = field(default_factory=list)

    def tenant(self, key: str) -> Tenant | None:
        """A tenant by GUID or by any of its domains (case-insensitive)."""
        tenant = self.tenants.get(key.lower())
        if tenant is not None:
            return tenant
        for candidate in self.tenants.values():
            if candidate.domain.lower() == key.lower():
                return candidate
        return None

    def add_tenant(self, tenant: Tenant) -> Tenant:
        self.tenants[tenant.tenant_id.lower()] = tenant
        return tenant
