"""The emulator's unauthenticated control API (/_emulator): tenants, truth, mutations, faults."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from licensewatch.emulator import assignment_states, mutations
from licensewatch.emulator.counters import RequestCounter
from licensewatch.emulator.state import Subscription, Tenant, User, World, utcnow
from licensewatch.emulator.truth import ground_truth


class FaultConfigurator(Protocol):
    """What the control API needs of the fault injector (emulator.faults.FaultInjector)."""

    requests: RequestCounter

    def configure(self, spec: str) -> None: ...


def _json(body: object, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status, media_type="application/json")


def _error(status: int, message: str) -> Response:
    code = {400: "BadRequest", 404: "NotFound"}.get(status, "Error")
    return _json({"error": {"code": code, "message": message}}, status)


class _Args:
    """Typed access to a mutation's JSON arguments; a wrong or missing one is a ValueError (400)."""

    def __init__(self, body: Mapping[str, Any]) -> None:
        self.body = body

    def text(self, name: str) -> str:
        value = self.body.get(name)
        if not isinstance(value, str) or not value:
            raise ValueError(f"{name!r} must be a non-empty string")
        return value

    def optional_text(self, name: str) -> str | None:
        return None if self.body.get(name) is None else self.text(name)

    def flag(self, name: str, default: bool | None = None) -> bool:
        value = self.body.get(name, default)
        if not isinstance(value, bool):
            raise ValueError(f"{name!r} must be true or false")
        return value

    def number(self, name: str) -> int:
        value = self.body.get(name)
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(f"{name!r} must be an integer")
        return value

    def texts(self, name: str) -> list[str] | None:
        value = self.body.get(name)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError(f"{name!r} must be a list of strings")
        return value

    def mapping(self, name: str) -> dict[str, object]:
        value = self.body.get(name)
        if not isinstance(value, dict) or not value:
            raise ValueError(f"{name!r} must be a non-empty object")
        return value

    def subscription(self) -> str:
        return self.optional_text("subscription") or self.text("sku")


def _user(tenant: Tenant, user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "userPrincipalName": user.user_principal_name,
        "accountEnabled": user.account_enabled,
        "userType": user.user_type,
        "deleted": user.deleted,
        "assignedLicenses": [
            tenant.products[s].part_number if s in tenant.products else s
            for s in user.assigned_sku_ids()
        ],
        "licenseAssignmentStates": [
            {"skuId": a.sku_id, "assignedByGroup": a.assigned_by_group, "state": a.state,
             "error": a.error, "disabledPlans": list(a.disabled_plans)}
            for a in user.assignments
        ],
    }  # fmt: skip


def _subscription(sub: Subscription) -> dict[str, Any]:
    return {"id": sub.id, "skuId": sub.sku_id, "status": sub.status, "units": sub.total_licenses}


_Op = Callable[[Tenant, _Args], dict[str, Any]]


def _hire(tenant: Tenant, args: _Args) -> dict[str, Any]:
    attributes = {k: v for k, v in args.body.items() if k not in ("op", "skus")}
    return {"user": _user(tenant, mutations.hire(tenant, attributes, args.texts("skus") or ()))}


def _assign(tenant: Tenant, args: _Args) -> dict[str, Any]:
    user = args.text("user")
    plans = args.texts("disabled_plans") or ()
    mutations.assign(tenant, user, args.text("sku"), plans, args.flag("force", False))
    return {"user": _user(tenant, mutations.find_user(tenant, user))}


def _with_user(change: Callable[[Tenant, str, _Args], object]) -> _Op:
    def op(tenant: Tenant, args: _Args) -> dict[str, Any]:
        key = args.text("user")
        user = mutations.find_user(tenant, key)  # deleted users stay readable in the answer
        change(tenant, user.id, args)
        return {"user": _user(tenant, user)}

    return op


OPS: dict[str, _Op] = {
    "hire": _hire,
    "delete": _with_user(lambda t, u, a: mutations.delete(t, u, soft=a.flag("soft", False))),
    "set_assignment_state": _with_user(
        lambda t, u, a: assignment_states.set_state(
            t,
            u,
            a.text("sku"),
            a.text("state"),
            a.optional_text("error") or "None",
            a.optional_text("group"),
        )
    ),
    "restore": lambda t, a: {"user": _user(t, mutations.restore(t, a.text("user")))},
    "disable": _with_user(lambda t, u, a: mutations.set_enabled(t, u, False)),
    "enable": _with_user(lambda t, u, a: mutations.set_enabled(t, u, True)),
    "update": _with_user(lambda t, u, a: mutations.update(t, u, a.mapping("changes"))),
    "assign": _assign,
    "unassign": _with_user(lambda t, u, a: mutations.unassign(t, u, a.text("sku"))),
    "add_member": _with_user(lambda t, u, a: mutations.add_member(t, a.text("group"), u)),
    "remove_member": _with_user(lambda t, u, a: mutations.remove_member(t, a.text("group"), u)),
    "set_units": lambda t, a: {
        "subscription": _subscription(mutations.set_units(t, a.subscription(), a.number("units")))
    },
    "set_subscription_status": lambda t, a: {
        "subscription": _subscription(
            mutations.set_subscription_status(t, a.subscription(), a.text("status"))
        )
    },
    "expire_secret": lambda t, a: {
        "expired": mutations.expire_secret(
            t, a.optional_text("client_id"), a.optional_text("key_id")
        )
    },
    "revoke_consent": lambda t, a: {
        "roles": sorted(mutations.revoke_consent(t, a.optional_text("client_id")).roles)
    },
    "grant_consent": lambda t, a: {
        "roles": sorted(
            mutations.grant_consent(t, a.texts("roles"), a.optional_text("client_id")).roles
        )
    },
    "expire_delta_tokens": lambda t, a: {"delta_epoch": mutations.expire_delta_tokens(t)},
    "set_premium": lambda t, a: {"has_premium": mutations.set_premium(t, a.flag("enabled"))},
}


def _summary(tenant: Tenant, credentials: bool) -> dict[str, Any]:
    now, products = utcnow(), tenant.products
    return {
        "tenant_id": tenant.tenant_id,
        "domain": tenant.domain,
        "display_name": tenant.display_name,
        "users": tenant.user_count(),
        "has_premium": tenant.has_premium,
        "version": tenant.version,
        "delta_epoch": tenant.delta_epoch,
        "skus": [{"sku_id": s, "sku_part_number": p.part_number} for s, p in products.items()],
        "groups": [{"id": g.id, "display_name": g.display_name} for g in tenant.groups.values()],
        "apps": [
            {
                "client_id": app.client_id,
                "display_name": app.display_name,
                "roles": sorted(app.roles),
                "secrets": [
                    {"key_id": s.key_id, "display_name": s.display_name, "expires": s.expires,
                     "expired": s.expires <= now, **({"value": s.value} if credentials else {})}
                    for s in app.secrets
                ],
                "certificates": [
                    {"thumbprint_sha1": c.thumbprint_sha1, "expires": c.expires,
                     "certificate_path": c.certificate_path, "private_key_path": c.private_key_path}
                    for c in app.certificates
                ],
            }
            for app in tenant.apps.values()
        ],
    }  # fmt: skip


async def _object(request: Request) -> dict[str, Any]:
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        raise ValueError("the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    return body


def control_routes(world: World, issuer: object, injector: FaultConfigurator) -> list[BaseRoute]:
    """Routes of the control API. `issuer` is accepted for symmetry with the other route builders.

    GET  /_emulator/tenants[?credentials=1]     tenants, apps (secret values only when asked)
    GET  /_emulator/tenants/{tenant}/truth      truth.ground_truth of a tenant (GUID or domain)
    POST /_emulator/tenants/{tenant}/mutations  {"op": <one of OPS>, ...arguments}
    POST /_emulator/faults                      {"spec": "<fault SPEC>"}, "" clears the faults
    GET  /_emulator/requests                    requests answered so far, by endpoint family
    DELETE /_emulator/requests                  the same, then counting starts again from zero
    """
    del issuer

    def guarded(
        handler: Callable[[Request], Awaitable[Response]],
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            try:
                return await handler(request)
            except (mutations.NotFound, KeyError) as exc:
                return _error(404, str(exc.args[0]) if exc.args else "not found")
            except ValueError as exc:
                return _error(400, str(exc))

        return endpoint

    def tenant_of(request: Request) -> Tenant:
        key = request.path_params["tenant"]
        tenant = world.tenant(key)
        if tenant is None:
            raise mutations.NotFound(f"tenant {key!r} not found")
        return tenant

    async def tenants(request: Request) -> Response:
        credentials = request.query_params.get("credentials", "").lower() in ("1", "true")
        return _json({"tenants": [_summary(t, credentials) for t in world.tenants.values()]})

    async def truth(request: Request) -> Response:
        return _json(ground_truth(tenant_of(request)))

    async def mutate(request: Request) -> Response:
        tenant = tenant_of(request)
        body = await _object(request)
        op = OPS.get(str(body.get("op")))
        if op is None:
            raise ValueError(f"unknown op {body.get('op')!r}; choose from {', '.join(OPS)}")
        result = op(tenant, _Args(body))
        return _json({"op": body["op"], "version": tenant.version, **result})

    async def faults(request: Request) -> Response:
        spec = (await _object(request)).get("spec")
        if not isinstance(spec, str):
            raise ValueError("'spec' must be a string")
        injector.configure(spec)
        return _json({"spec": spec})

    async def requests(request: Request) -> Response:
        counted = injector.requests.snapshot()
        if request.method == "DELETE":  # answers what it cleared: a read-and-reset in one step
            injector.requests.reset()
        return _json(counted)

    return [
        Route("/_emulator/requests", guarded(requests), methods=["GET", "DELETE"]),
        Route("/_emulator/tenants", guarded(tenants), methods=["GET"]),
        Route("/_emulator/tenants/{tenant}/truth", guarded(truth), methods=["GET"]),
        Route("/_emulator/tenants/{tenant}/mutations", guarded(mutate), methods=["POST"]),
        Route("/_emulator/faults", guarded(faults), methods=["POST"]),
    ]
