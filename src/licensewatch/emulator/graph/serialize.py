"""State → Graph JSON for users: a getter per property, so a page builds only the selected ones."""

from __future__ import annotations

import base64
import gc
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from operator import attrgetter
from typing import Any

from licensewatch.emulator.graph.query import EntitySpec, FilterProp
from licensewatch.emulator.graph.sentinels import with_sentinels
from licensewatch.emulator.state import ASSIGNED_STATES, ServicePlan, Tenant, User

USER_DEFAULTS = (
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
)
_SERVICES = (
    ("EXCHANGE", "exchange"),
    ("SHAREPOINT", "SharePoint"),
    ("MCO", "MicrosoftCommunicationsOnline"),
)


def iso(value: datetime | None) -> str | None:
    """Graph's DateTimeOffset text (UTC, whole seconds, 'Z'), memoised.

    datetime.isoformat costs microseconds and a 300k-user run formats millions of dates, most of
    them shared (seeded worlds draw assignment dates from pools), so a bounded memo pays off.
    """
    if value is None:
        return None
    text = _MEMO.get(value)
    if text is None:
        if len(_MEMO) >= _MEMO_LIMIT:
            _MEMO.clear()
        text = _MEMO[value] = _format(value)
    return text


def _format(value: datetime) -> str:
    if value.tzinfo is not UTC and value.utcoffset():
        value = value.astimezone(UTC)
    ordinal = value.toordinal()
    day = _DAYS.get(ordinal)
    if day is None:
        day = _DAYS[ordinal] = value.date().isoformat()
    return day + _times()[value.hour * 3600 + value.minute * 60 + value.second]


_MEMO: dict[datetime, str] = {}
_MEMO_LIMIT = 200_000
_DAYS: dict[int, str] = {}
_TIMES: list[str] = []


def _times() -> list[str]:
    if not _TIMES:
        _TIMES.extend(
            f"T{h:02d}:{m:02d}:{s:02d}Z" for h in range(24) for m in range(60) for s in range(60)
        )
    return _TIMES


@contextmanager
def gc_paused() -> Iterator[None]:
    """Build and encode a page without the cyclic GC.

    A page allocates ~10k short-lived objects; with the collector on, those allocations trigger
    collections that walk the whole (300k-user) world again and again. Everything built inside is
    acyclic and freed by reference counting before the collector is switched back on.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def request_id_for(user_id: str, kind: str) -> str:
    """Stable sign-in request ids, so repeated reads of the same user agree."""
    return str(uuid.uuid5(uuid.NAMESPACE_OID, f"{user_id}:{kind}"))


def service_name(plan: ServicePlan) -> str:
    for prefix, service in _SERVICES:
        if plan.name.upper().startswith(prefix):
            return service
    return plan.service_type or plan.name


class UserSerializer:
    """Builds user dicts for one request; caches per-SKU facts shared by every user on a page.

    Speed matters (benchmarks page through 300k users): plain attributes come out in one C-level
    attrgetter call, constants are copied in, and only computed properties run Python code.
    """

    def __init__(self, tenant: Tenant, select: Iterable[str], *, sentinels: bool = False) -> None:
        self.tenant = tenant
        self.sentinels = sentinels  # "never" as Microsoft's year-1 and "" values
        chosen = list(select)
        self._names = tuple(n for n in chosen if n in _ATTRIBUTES)
        # "id" last keeps the getter's result a tuple even when one attribute is selected.
        self._values = attrgetter(*(_ATTRIBUTES[n] for n in self._names), "id")
        self._constants = {n: _CONSTANTS[n] for n in chosen if n in _CONSTANTS}
        self._computed = [(n, _COMPUTED[n]) for n in chosen if n in _COMPUTED]
        self._status: dict[str, str] = {}

    def user(self, user: User) -> dict[str, Any]:
        item = dict(zip(self._names, self._values(user), strict=False))
        if self._constants:
            item.update(self._constants)
        for name, compute in self._computed:
            item[name] = compute(self, user)
        return item

    def capability(self, sku_id: str) -> str:
        status = self._status.get(sku_id)
        if status is None:
            status = self._status[sku_id] = self.tenant.capability_status(sku_id)
        return status

    def assigned_licenses(self, user: User) -> list[dict[str, Any]]:
        assignments = user.assignments
        if not assignments:
            return []
        if len(assignments) == 1:  # the common case, without the general de-duplication
            only = assignments[0]
            if only.state not in ASSIGNED_STATES:
                return []
            return [{"disabledPlans": list(only.disabled_plans), "skuId": only.sku_id}]
        return [
            {"disabledPlans": list(user.disabled_plans_for(sku)), "skuId": sku}
            for sku in user.assigned_sku_ids()
        ]

    def assigned_plans(self, user: User) -> list[dict[str, Any]]:
        plans: list[dict[str, Any]] = []
        for sku in user.assigned_sku_ids():
            product = self.tenant.products.get(sku)
            if product is None:
                continue
            disabled = set(user.disabled_plans_for(sku))
            when = iso(min(a.last_updated for a in user.assignments if a.sku_id == sku))
            status = self.capability(sku)
            plans.extend(
                {
                    "assignedDateTime": when,
                    "capabilityStatus": status,
                    "service": service_name(plan),
                    "servicePlanId": plan.plan_id,
                }
                for plan in product.service_plans
                if plan.plan_id not in disabled
            )
        return plans

    def sign_in(self, user: User) -> dict[str, Any] | None:
        if self.sentinels:
            return with_sentinels(self._sign_in(user))
        return self._sign_in(user)

    def _sign_in(self, user: User) -> dict[str, Any] | None:
        activity = user.sign_in
        if activity is None:
            return None
        uid = user.id
        return {
            "lastSignInDateTime": iso(activity.last_sign_in),
            "lastSignInRequestId": request_id_for(uid, "i") if activity.last_sign_in else None,
            "lastNonInteractiveSignInDateTime": iso(activity.last_non_interactive_sign_in),
            "lastNonInteractiveSignInRequestId": (
                request_id_for(uid, "n") if activity.last_non_interactive_sign_in else None
            ),
            "lastSuccessfulSignInDateTime": iso(activity.last_successful_sign_in),
            "lastSuccessfulSignInRequestId": (
                request_id_for(uid, "s") if activity.last_successful_sign_in else None
            ),
        }


def _states(_: UserSerializer, user: User) -> list[dict[str, Any]]:
    return [
        {
            "assignedByGroup": a.assigned_by_group,
            "disabledPlans": list(a.disabled_plans),
            "error": a.error,
            "lastUpdatedDateTime": iso(a.last_updated),
            "skuId": a.sku_id,
            "state": a.state,
        }
        for a in user.assignments
    ]


def _guest(user: User) -> bool:
    return user.user_type == "Guest"


_ATTRIBUTES = {
    "id": "id",
    "userPrincipalName": "user_principal_name",
    "displayName": "display_name",
    "givenName": "given_name",
    "surname": "surname",
    "mail": "mail",
    "jobTitle": "job_title",
    "officeLocation": "office_location",
    "accountEnabled": "account_enabled",
    "userType": "user_type",
    "department": "department",
    "companyName": "company_name",
    "country": "country",
    "usageLocation": "usage_location",
    "city": "city",
    "employeeId": "employee_id",
    "onPremisesSyncEnabled": "on_premises_sync_enabled",
}
# Shared immutable values: orjson only reads them, nothing mutates a served dict.
_CONSTANTS: dict[str, Any] = {
    "businessPhones": (),
    "mobilePhone": None,
    "preferredLanguage": None,
    "state": None,
    "deletedDateTime": None,
    "employeeType": None,
}
Computed = Callable[[UserSerializer, User], Any]
_COMPUTED: dict[str, Computed] = {
    "createdDateTime": lambda s, u: iso(u.created),
    "employeeOrgData": lambda s, u: (
        {"costCenter": u.cost_center, "division": None} if u.cost_center is not None else None
    ),
    "externalUserState": lambda s, u: "Accepted" if _guest(u) else None,
    "creationType": lambda s, u: "Invitation" if _guest(u) else None,
    "proxyAddresses": lambda s, u: [f"SMTP:{u.mail}"] if u.mail else [],
    "assignedLicenses": UserSerializer.assigned_licenses,
    "assignedPlans": UserSerializer.assigned_plans,
    "licenseAssignmentStates": _states,
    "signInActivity": UserSerializer.sign_in,
}
USER_PROPERTIES = (*_ATTRIBUTES, *_CONSTANTS, *_COMPUTED)


def _upn(user: User) -> str:
    return user.user_principal_name


def _str_filter(getter: Callable[[User], Any], advanced: Iterable[str] = ("ne",)) -> FilterProp:
    return FilterProp(getter, "str", frozenset({"eq", "startswith"}), frozenset(advanced))


USER_SPEC = EntitySpec(
    "user",
    USER_PROPERTIES,
    USER_DEFAULTS,
    {
        "id": FilterProp(lambda u: u.id, "str", frozenset({"eq", "in"})),
        "userPrincipalName": _str_filter(_upn, ("ne", "ge", "le")),
        "displayName": _str_filter(lambda u: u.display_name),
        "mail": _str_filter(lambda u: u.mail),
        "givenName": _str_filter(lambda u: u.given_name),
        "surname": _str_filter(lambda u: u.surname),
        "department": _str_filter(lambda u: u.department),
        "country": _str_filter(lambda u: u.country),
        "usageLocation": _str_filter(lambda u: u.usage_location),
        "employeeId": _str_filter(lambda u: u.employee_id),
        "userType": FilterProp(lambda u: u.user_type, "str", frozenset({"eq"}), frozenset({"ne"})),
        "companyName": FilterProp(
            lambda u: u.company_name, "str", frozenset(), frozenset({"eq", "ne", "startswith"})
        ),
        "accountEnabled": FilterProp(
            lambda u: u.account_enabled, "bool", frozenset({"eq"}), frozenset({"ne"})
        ),
        "onPremisesSyncEnabled": FilterProp(
            lambda u: u.on_premises_sync_enabled, "bool", frozenset({"eq"}), frozenset({"ne"})
        ),
        "assignedLicenses": FilterProp(
            lambda u: [s.lower() for s in u.assigned_sku_ids()],
            "licenses",
            frozenset({"any"}),
            frozenset({"count_eq", "count_ne"}),
        ),
    },
)


def license_detail_id(user_id: str, sku_id: str) -> str:
    raw = uuid.UUID(user_id).bytes + uuid.UUID(sku_id).bytes
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
