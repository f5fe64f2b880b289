"""Opaque page tokens ($skiptoken, $deltatoken) and absolute nextLinks built from the request."""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TypeVar
from urllib.parse import quote

import orjson
from starlette.requests import Request

from licensewatch.emulator.graph.errors import GraphError, bad_request

T = TypeVar("T")
_SAFE = "$,'()/:@"
_PREFIX = b"LWpt"  # makes tokens look opaque and lets a decoder reject foreign strings early


def fingerprint(*parts: str) -> str:
    """A digest of the query a token belongs to: a token replayed with other options is refused."""
    return hashlib.blake2s("\x1f".join(parts).encode(), digest_size=6).hexdigest()


def encode_token(payload: Mapping[str, object]) -> str:
    raw = _PREFIX + orjson.dumps(payload)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_token(token: str, error: GraphError | None = None) -> dict[str, object]:
    failure = error or bad_request("Invalid paging token specified.")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError) as exc:
        raise failure from exc
    if not raw.startswith(_PREFIX):
        raise failure
    try:
        payload = orjson.loads(raw[len(_PREFIX) :])
    except orjson.JSONDecodeError as exc:
        raise failure from exc
    if not isinstance(payload, dict):
        raise failure
    return payload


def token_int(payload: Mapping[str, object], key: str, error: GraphError | None = None) -> int:
    value = payload.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise error or bad_request("Invalid paging token specified.")
    return value


def base_url(request: Request) -> str:
    """scheme://host[:port] as the client reached us, so nextLinks work behind any port."""
    url = request.url
    default = {"http": 80, "https": 443}.get(url.scheme)
    port = f":{url.port}" if url.port and url.port != default else ""
    return f"{url.scheme}://{url.hostname}{port}"


def build_url(request: Request, path: str, params: Iterable[tuple[str, str]]) -> str:
    """An absolute Graph URL; '$' and ',' stay readable, as Graph writes them."""
    query = "&".join(f"{name}={quote(value, safe=_SAFE)}" for name, value in params)
    return f"{link_origin(request)}{path}" + (f"?{query}" if query else "")


def link_origin(request: Request) -> str:
    """Where links point: the emulator's own origin, or the `link_host` option (a proxy that
    leaves Graph's own host in the links it passes on)."""
    app = request.scope.get("app")
    options = getattr(getattr(app, "state", None), "options", None)
    host = getattr(options, "link_host", "")
    return host.rstrip("/") if isinstance(host, str) and host else base_url(request)


def context_url(request: Request, fragment: str) -> str:
    return f"{base_url(request)}/v1.0/$metadata#{fragment}"


def carry_params(request: Request, drop: Iterable[str]) -> list[tuple[str, str]]:
    """The request's query options minus the ones a nextLink replaces (order kept)."""
    dropped = set(drop)
    return [(k, v) for k, v in request.query_params.multi_items() if k not in dropped]


def take_page(
    items: Iterator[tuple[int, T]], predicate: Callable[[T], bool] | None, top: int
) -> tuple[list[T], int | None]:
    """Up to `top` matching items, and the position of the next match (None on the last page)."""
    page: list[T] = []
    for position, item in items:
        if predicate is None or predicate(item):
            if len(page) == top:
                return page, position
            page.append(item)
    return page, None


def resume_position(request: Request, fp: str) -> int | None:
    """Where a `$skiptoken` resumes (None on a first page); refuses a token of another query."""
    token = request.query_params.get("$skiptoken")
    if token is None:
        return None
    payload = decode_token(token)
    if payload.get("f") != fp:
        raise bad_request("Invalid paging token specified.")
    return token_int(payload, "p")


def next_link(request: Request, fp: str, position: int) -> str:
    params = carry_params(request, ("$skiptoken",))
    params.append(("$skiptoken", encode_token({"p": position, "f": fp})))
    return build_url(request, request.url.path, params)


def same_link(request: Request) -> str:
    return build_url(request, request.url.path, request.query_params.multi_items())
