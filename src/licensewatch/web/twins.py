"""Twin routes: one declaration per resource serves its page, the page's `.json` and /api/v1.

In the manner of datasette, whose every page has a `.json` twin: a `Resource` names its query
parameters once (a pydantic model; old page names stay accepted as aliases) and one loader that
builds the view model from the read models. From it come

- the HTML page (session cookie, template; `page` adds the form's choices around the view),
- the page's JSON twin at the same path plus `.json` (session cookie, same access checks),
- the /api/v1 route (Bearer token or session; URL and response model as the API documents).

The three share the parameter parsing, the caller's role check and the loader: the page's
`.json` body is the API's body for the same query, by construction. `API_READS` lists every
declared /api/v1 GET route; tests/web/test_twin_routes.py checks no other one exists.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from inspect import Parameter, Signature
from typing import Annotated, Any, Generic, TypeVar

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel
from sqlalchemy import Connection
from sqlalchemy.orm import Session
from starlette.responses import Response

from licensewatch.web.auth import (
    Caller,
    admin_only,
    api_admin_of,
    api_caller_on,
    page_caller_on,
    require_credentials,
)
from licensewatch.web.context import read_session
from licensewatch.web.templating import render

P = TypeVar("P", bound=BaseModel)
V = TypeVar("V")
API_PREFIX = "/api/v1"
JSON_SUFFIX = ".json"
KEYWORD = Parameter.KEYWORD_ONLY


class NoParams(BaseModel):
    """A resource without query parameters."""


@dataclass(frozen=True)
class Ask(Generic[P]):
    """One request to a resource, whichever of its routes it came by."""

    request: Request
    session: Session
    caller: Caller
    params: P
    path: Mapping[str, Any]


@dataclass(frozen=True)
class Resource(Generic[P, V]):
    """A resource's routes, declared once (`page_path` None: an API-only read)."""

    name: str  # the API's operation name (its OpenAPI operationId starts with it)
    api_path: str  # under /api/v1
    params: type[P]
    load: Callable[[Ask[P]], V]
    doc: str  # the API route's description
    tag: str
    response_model: Any = None
    dump: Callable[[Ask[P], V], Any] | None = None  # the JSON body of the view (default: as is)
    page_path: str | None = None
    template: str = ""
    page: Callable[[Ask[P], V], dict[str, Any]] | None = None  # the template's context
    admin: bool = False  # pages and API alike
    path_types: Mapping[str, Any] = field(default_factory=dict)  # path parameters not `str`

    @property
    def json_path(self) -> str | None:
        return None if self.page_path is None else self.page_path + JSON_SUFFIX

    def body(self, ask: Ask[P], view: V) -> Any:
        return view if self.dump is None else self.dump(ask, view)

    def respond_page(self, ask: Ask[P], view: V) -> Response:
        context = self.page(ask, view) if self.page is not None else {}
        return render(ask.request, self.template, ask.caller, **context)


def path_names(path: str) -> list[str]:
    return re.findall(r"\{(\w+)\}", path)


@dataclass(frozen=True)
class Guard:
    """Who may call a route: a session (page) or a token or session (API); admins only or not."""

    api: bool
    admin: bool

    async def gate(self, request: Request) -> None:
        """No credential at all: refused before the parameters are read (no database work)."""
        require_credentials(request, api=self.api)

    def caller(self, request: Request, connection: Connection) -> Caller:
        """The caller, looked up on the request's own connection, or the route's 401/403."""
        if self.api:
            found = api_caller_on(request, connection)
            return api_admin_of(request, found) if self.admin else found
        found = page_caller_on(request, connection)
        return admin_only(found) if self.admin else found


def _endpoint(
    resource: Resource[Any, Any],
    path: str,
    guard: Guard,
    finish: Callable[[Ask[Any], Any], Any],
) -> Callable[..., Any]:
    """A route function whose signature FastAPI reads: path, credential gate, parameters.

    The caller's lookup, the loader and the rendering run in one worker thread on one
    connection (one pool checkout, one BEGIN): as dependencies they took three threadpool
    hops and two connections per request.
    """
    with_params = resource.params is not NoParams

    def endpoint(request: Request, **values: Any) -> Any:
        values.pop("gate", None)
        params = values.pop("params") if with_params else NoParams()
        with read_session(request) as session:
            caller = guard.caller(request, session.connection())
            ask = Ask(request, session, caller, params, values)
            return finish(ask, resource.load(ask))

    signature = [
        Parameter(
            name,
            KEYWORD,
            annotation=resource.path_types.get(name, Annotated[str, Path()]),
        )
        for name in path_names(path)
    ]
    signature += [
        Parameter("request", KEYWORD, annotation=Request),
        # Solved before the parameters: a request without credentials gets 401 (or the sign-in
        # redirect) whatever its parameters, as with a caller dependency.
        Parameter("gate", KEYWORD, annotation=Annotated[None, Depends(guard.gate)]),
    ]
    if with_params:
        query = Annotated[resource.params, Query()]  # type: ignore[name-defined]
        signature.append(Parameter("params", KEYWORD, annotation=query))
    endpoint.__signature__ = Signature(signature)  # type: ignore[attr-defined]
    endpoint.__name__ = resource.name
    endpoint.__doc__ = resource.doc
    return endpoint


def api_router(resources: list[Resource[Any, Any]]) -> APIRouter:
    """The /api/v1 reads (Bearer token or session), as the OpenAPI document lists them."""
    router = APIRouter(prefix=API_PREFIX)
    for res in resources:
        guard = Guard(api=True, admin=res.admin)
        router.add_api_route(
            res.api_path,
            _endpoint(res, res.api_path, guard, res.body),
            methods=["GET"],
            response_model=res.response_model,
            tags=[res.tag],
            description=res.doc,
        )
    return router


def page_router(resources: list[Resource[Any, Any]]) -> APIRouter:
    """Each page and its `.json` twin (session cookie); the twin first, so that `/x/{id}` does
    not take `/x/1.json` for an id."""
    router = APIRouter(include_in_schema=False)
    for res in resources:
        if res.page_path is None or res.json_path is None:
            continue
        guard = Guard(api=False, admin=res.admin)
        router.add_api_route(
            res.json_path,
            _endpoint(res, res.page_path, guard, res.body),
            methods=["GET"],
            response_model=res.response_model,
        )
        router.add_api_route(
            res.page_path, _endpoint(res, res.page_path, guard, res.respond_page), methods=["GET"]
        )
    return router


def api_reads(resources: list[Resource[Any, Any]]) -> set[str]:
    """The declared /api/v1 GET paths."""
    return {API_PREFIX + res.api_path for res in resources}
