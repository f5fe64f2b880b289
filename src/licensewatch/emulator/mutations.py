"""Admin operations on an emulated tenant: people, licences, groups, subscriptions, credentials."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta

from licensewatch.emulator import state
from licensewatch.emulator.apps import App
from licensewatch.emulator.state import LicenseAssignment, Tenant, User, new_guid, utcnow

SUBSCRIPTION_STATUSES = ("Enabled", "Warning", "Suspended", "LockedOut", "Deleted")
DEFAULT_ROLES = ("Directory.Read.All", "User.Read.All")
_STR_FIELDS = frozenset(
    {
        "display_name", "given_name", "surname", "mail", "department", "job_title", "company_name",
        "country", "usage_location", "city", "office_location", "employee_id", "cost_center",
    }
)  # fmt: skip
_USER_TYPES = ("Member", "Guest")


class NotFound(LookupError):
    """An unknown user, group, SKU, subscription or app (the control API answers 404)."""


def snake(name: str) -> str:
    """Graph's camelCase property name (`usageLocation`) as the model's field name."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def _parse_time(value: object, name: str) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    try:
        when = datetime.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"{name} must be an ISO 8601 date-time or null") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)  # Graph's times are UTC


def find_user(tenant: Tenant, key: str) -> User:
    user = tenant.user(key)
    if user is None:
        raise NotFound(f"user {key!r} not found")
    return user


def _normalize(changes: Mapping[str, object]) -> tuple[dict[str, object], str | None]:
    """Checked model-field values and the new userPrincipalName (None: unchanged)."""
    plain: dict[str, object] = {}
    upn: str | None = None
    for raw, value in changes.items():
        name = snake(raw)
        if name in _STR_FIELDS:
            if value is not None and not isinstance(value, str):
                raise ValueError(f"{raw} must be a string or null")
            plain[name] = value
        elif name in ("account_enabled", "on_premises_sync_enabled"):
            if not isinstance(value, bool) and not (name != "account_enabled" and value is None):
                raise ValueError(f"{raw} must be true or false")
            plain[name] = value
        elif name in ("created", "created_date_time"):
            plain["created"] = _parse_time(value, raw)
        elif name == "user_type":
            if value not in _USER_TYPES:
                raise ValueError("userType must be Member or Guest")
            plain[name] = value
        elif name == "last_sign_in":
            when = _parse_time(value, raw)
            plain["sign_in"] = state.SignInActivity(when, when, when) if when else None
        elif name == "user_principal_name":
            if not isinstance(value, str) or "@" not in value:
                raise ValueError("userPrincipalName must look like name@domain")
            upn = value
        else:
            raise ValueError(f"cannot change {raw!r}")
    return plain, upn


def update(tenant: Tenant, user_key: str, changes: Mapping[str, object]) -> User:
    """Change user attributes; names may be Graph's (`usageLocation`) or the model's.

    `userPrincipalName` renames; `lastSignIn` (ISO date-time or null) sets signInActivity.
    """
    user = find_user(tenant, user_key)
    plain, upn = _normalize(changes)
    if upn is not None:
        tenant.rename_user(user.id, upn)
    if plain or upn is None:
        tenant.update_user(user.id, **plain)
    return user


def hire(tenant: Tenant, attributes: Mapping[str, object], skus: Iterable[str] = ()) -> User:
    """A new user licensed with `skus`; the UPN defaults to first.last (guests: mail, #EXT#)."""
    plain, upn = _normalize(attributes)
    given, surname = plain.get("given_name"), plain.get("surname")
    display = plain.pop("display_name", None) or " ".join(str(p) for p in (given, surname) if p)
    if not isinstance(display, str) or not display.strip():
        raise ValueError("hire needs displayName or givenName/surname")
    mail = plain.get("mail")
    if upn is None and plain.get("user_type") == "Guest" and isinstance(mail, str) and "@" in mail:
        upn = f"{mail.replace('@', '_')}#EXT#@{tenant.domain}"
    if upn is None:
        local = ".".join(display.lower().split())
        upn, n = f"{local}@{tenant.domain}", 1
        while tenant.user(upn) is not None:
            n += 1
            upn = f"{local}{n}@{tenant.domain}"
    if tenant.user(upn) is not None:
        raise ValueError(f"user {upn} already exists")
    wanted = [resolve_sku(tenant, sku) for sku in skus]  # fail before creating anything
    for product in wanted:
        _require_unit(tenant, product)
    plain.setdefault("mail", upn)
    if wanted:
        plain.setdefault("usage_location", "US")
    user = User(new_guid(), upn, display, created=utcnow())
    for name, value in plain.items():
        setattr(user, name, value)
    tenant.add_user(user)
    for product in wanted:
        assign(tenant, user.id, product.sku_id)
    return user


def delete(tenant: Tenant, user_key: str, *, soft: bool = False) -> User:
    """Delete a user permanently, or softly (deleted items: delta says reason "changed")."""
    return tenant.delete_user(find_user(tenant, user_key).id, soft=soft)


def restore(tenant: Tenant, user_id: str) -> User:
    """Restore a soft-deleted user (by id) from deleted items."""
    try:
        return tenant.restore_user(user_id)
    except KeyError:
        raise NotFound(f"no deleted user {user_id!r} to restore") from None


def set_enabled(tenant: Tenant, user_key: str, enabled: bool) -> User:
    return tenant.update_user(find_user(tenant, user_key).id, account_enabled=enabled)


def resolve_sku(tenant: Tenant, key: str) -> state.Product:
    """A subscribed product by skuId or skuPartNumber (case-insensitive)."""
    product = tenant.products.get(key.lower())
    if product is None:
        matches = [p for p in tenant.products.values() if p.part_number.lower() == key.lower()]
        product = matches[0] if matches else None
    if product is None:
        raise NotFound(f"SKU {key!r} is not subscribed in this tenant")
    return product


def free_units(tenant: Tenant, sku_id: str) -> int:
    """Units left to assign: enabled + warning (grace period) − consumed."""
    units = tenant.prepaid_units(sku_id)
    return units["enabled"] + units["warning"] - tenant.consumed_units().get(sku_id, 0)


def _require_unit(tenant: Tenant, product: state.Product) -> None:
    if (
        product.applies_to != "User"
    ):  # subscribedSku: "Only SKUs with target class User are assignable"
        raise ValueError(f"{product.part_number} applies to the company and cannot be assigned.")
    if free_units(tenant, product.sku_id) <= 0:
        raise ValueError(f"Subscription for {product.part_number} has no more available licenses.")


def _plan_ids(product: state.Product, plans: Iterable[str]) -> tuple[str, ...]:
    by_key = {p.plan_id: p.plan_id for p in product.service_plans}
    by_key.update({p.name.lower(): p.plan_id for p in product.service_plans})
    try:
        return tuple(by_key[plan.lower()] for plan in plans)
    except KeyError as exc:
        raise ValueError(f"{product.part_number} has no service plan {exc.args[0]!r}") from None


def assign(
    tenant: Tenant, user_key: str, sku: str, disabled_plans: Iterable[str] = (), force: bool = False
) -> LicenseAssignment:
    """A direct assignment; as Graph's assignLicense, fails when no unit is free (unless forced)."""
    user, product = find_user(tenant, user_key), resolve_sku(tenant, sku)
    holds = product.sku_id in user.assigned_sku_ids()
    if not force and not holds:
        _require_unit(tenant, product)
    assignment = LicenseAssignment(product.sku_id, None, _plan_ids(product, disabled_plans))
    tenant.assign(user.id, assignment)
    return assignment


def unassign(tenant: Tenant, user_key: str, sku: str) -> None:
    user, product = find_user(tenant, user_key), resolve_sku(tenant, sku)
    tenant.unassign(user.id, product.sku_id)


def find_group(tenant: Tenant, key: str) -> state.Group:
    group = tenant.groups.get(key)
    if group is None:
        key = key.lower()
        named = [g for g in tenant.groups.values() if key in (g.display_name.lower(), g.id)]
        group = named[0] if named else None
    if group is None:
        raise NotFound(f"group {key!r} not found")
    return group


def add_member(tenant: Tenant, group_key: str, user_key: str) -> list[LicenseAssignment]:
    """Add a member: it inherits the group's licences (Error/CountViolation if no unit is free)."""
    group, user = find_group(tenant, group_key), find_user(tenant, user_key)
    if user.id in group.member_ids:
        raise ValueError(f"{user.user_principal_name} is already a member of {group.display_name}")
    group.member_ids.append(user.id)
    made: list[LicenseAssignment] = []
    for sku_id, plans in group.assigned_licenses:
        holds = sku_id in user.assigned_sku_ids()
        if holds or free_units(tenant, sku_id) > 0:
            assignment = LicenseAssignment(sku_id, group.id, plans)
        else:
            assignment = LicenseAssignment(sku_id, group.id, plans, "Error", "CountViolation")
        tenant.assign(user.id, assignment)
        made.append(assignment)
    return made


def remove_member(tenant: Tenant, group_key: str, user_key: str) -> None:
    group, user = find_group(tenant, group_key), find_user(tenant, user_key)
    if user.id not in group.member_ids:
        raise ValueError(f"{user.user_principal_name} is not a member of {group.display_name}")
    group.member_ids.remove(user.id)
    for sku_id, _ in group.assigned_licenses:
        if any(a.sku_id == sku_id and a.assigned_by_group == group.id for a in user.assignments):
            tenant.unassign(user.id, sku_id, group.id)


def find_subscription(tenant: Tenant, key: str) -> state.Subscription:
    """By id or commerceSubscriptionId, or by SKU (id or part number): its first live one."""
    for sub in tenant.subscriptions:
        if key.lower() in (sub.id, sub.commerce_subscription_id):
            return sub
    sku_id = resolve_sku(tenant, key).sku_id
    for sub in tenant.subscriptions:
        if sub.sku_id == sku_id and sub.status != "Deleted":
            return sub
    raise NotFound(f"no subscription for {key!r}")


def set_units(tenant: Tenant, key: str, units: int) -> state.Subscription:
    if units < 0:
        raise ValueError("units must not be negative")
    sub = find_subscription(tenant, key)
    sub.total_licenses = units
    return sub


def set_subscription_status(tenant: Tenant, key: str, status: str) -> state.Subscription:
    if status not in SUBSCRIPTION_STATUSES:
        raise ValueError(f"status must be one of {', '.join(SUBSCRIPTION_STATUSES)}")
    sub = find_subscription(tenant, key)
    sub.status = status
    return sub


def find_app(tenant: Tenant, client_id: str | None = None) -> App:
    """An app registration by client id (None: the tenant's first one)."""
    apps = tenant.apps
    app = apps.get(client_id.lower()) if client_id else next(iter(apps.values()), None)
    if app is None:
        raise NotFound(f"app {client_id!r} not found")
    return app


def expire_secret(
    tenant: Tenant, client_id: str | None = None, key_id: str | None = None
) -> list[str]:
    """Expire one secret (by its key id) or every still-valid secret of the app; returns key ids."""
    app, now = find_app(tenant, client_id), utcnow()
    chosen = [s for s in app.secrets if (s.key_id == key_id if key_id else s.expires > now)]
    if key_id and not chosen:
        raise NotFound(f"secret {key_id!r} not found")
    for secret in chosen:
        secret.expires = now - timedelta(seconds=1)
    return [s.key_id for s in chosen]


def revoke_consent(tenant: Tenant, client_id: str | None = None) -> App:
    app = find_app(tenant, client_id)
    app.roles.clear()
    return app


def grant_consent(
    tenant: Tenant, roles: Iterable[str] | None = None, client_id: str | None = None
) -> App:
    app = find_app(tenant, client_id)
    app.roles.update(DEFAULT_ROLES if roles is None else roles)
    return app


def expire_delta_tokens(tenant: Tenant) -> int:
    """Every delta token minted so far is now answered with 410 Gone."""
    tenant.delta_epoch += 1
    return tenant.delta_epoch


def set_premium(tenant: Tenant, enabled: bool) -> bool:
    """Entra ID P1/P2 present (signInActivity is served) or not."""
    tenant.has_premium = enabled
    return enabled
