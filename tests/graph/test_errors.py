"""Graph error responses map to exception types that keep the status, code and request ids."""

from __future__ import annotations

import base64

import orjson
import pytest

from licensewatch.graph.auth import unverified_claims
from licensewatch.graph.errors import (
    DeltaTokenExpired,
    GraphAuthorizationError,
    GraphError,
    GraphThrottledError,
    GraphUnavailableError,
    error_from_response,
    infer_permission,
    parse_error_body,
)
from licensewatch.graph.paging import LinkRewrite

BASE = "https://graph.microsoft.com/v1.0"
RID = "799ac1b2-b3e0-46c9-877e-6eeb72508938"


def body(code: str, message: str) -> bytes:
    inner = {"date": "2021-05-23T06:39:06", "request-id": RID, "client-request-id": "c-1"}
    return orjson.dumps({"error": {"code": code, "message": message, "innerError": inner}})


def test_403_names_the_missing_permission_from_the_path() -> None:
    error = error_from_response(
        403,
        {"request-id": RID},
        body("Authorization_RequestDenied", "Insufficient privileges to complete the operation."),
        f"{BASE}/subscribedSkus",
        "c-1",
    )
    assert isinstance(error, GraphAuthorizationError)
    assert error.missing_permission == "Directory.Read.All"
    assert (error.status, error.code, error.request_id) == (403, "Authorization_RequestDenied", RID)
    assert RID in str(error)
    assert "/v1.0/subscribedSkus" in str(error)


@pytest.mark.parametrize(
    ("url", "code", "message", "expected"),
    [
        (
            f"{BASE}/users?$top=1",
            "Authorization_RequestDenied",
            "Insufficient privileges",
            "User.Read.All",
        ),
        (f"{BASE}/users/delta", "Authorization_RequestDenied", "Insufficient", "User.Read.All"),
        (f"{BASE}/groups", "Authorization_RequestDenied", "Insufficient", "Directory.Read.All"),
        (
            f"{BASE}/users?$select=id,signInActivity",
            "Authentication_MSGraphPermissionMissing",
            "Calling principal does not have required MSGraph permissions AuditLog.Read.All",
            "AuditLog.Read.All",
        ),
        (
            f"{BASE}/users?$select=id,signInActivity",
            "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
            "Neither tenant is B2C or tenant doesn't have premium license",
            None,
        ),
        (f"{BASE}/me/drive", "Authorization_RequestDenied", "Insufficient", None),
    ],
)
def test_permission_inference(url: str, code: str, message: str, expected: str | None) -> None:
    assert infer_permission(url, message, code) == expected


def test_410_is_delta_token_expired_with_location() -> None:
    location = f"{BASE}/users/delta?$deltatoken="
    error = error_from_response(
        410, {"Location": location, "request-id": RID}, body("syncStateNotFound", "gone"), BASE
    )
    assert isinstance(error, DeltaTokenExpired)
    assert error.location == location


@pytest.mark.parametrize("code", ["syncStateNotFound", "resyncRequired"])
def test_a_400_with_a_resync_code_is_delta_token_expired(code: str) -> None:
    """Graph's errors page: both codes mean "synchronise again", whatever the 4xx status."""
    error = error_from_response(400, {"request-id": RID}, body(code, "resync"), BASE)
    assert isinstance(error, DeltaTokenExpired)
    assert (error.status, error.code) == (400, code)
    other = error_from_response(400, {}, body("Request_BadRequest", "bad"), BASE)
    assert not isinstance(other, DeltaTokenExpired)


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        (
            "https://graph.microsoft.com/v1.0/users?$top=5&$skiptoken=X%27ab%27",
            "https://proxy.corp.example/graph/v1.0/users?$top=5&$skiptoken=X%27ab%27",
        ),
        (
            "https://GRAPH.microsoft.com/v1.0/users/delta",
            "https://proxy.corp.example/graph/v1.0/users/delta",
        ),
        ("https://graph.microsoft.us/v1.0/users", "https://graph.microsoft.us/v1.0/users"),
        ("https://evil.example/v1.0/users", "https://evil.example/v1.0/users"),
        ("http://graph.microsoft.com/v1.0/users", "http://graph.microsoft.com/v1.0/users"),
    ],
)
def test_link_rewrite_moves_only_the_clouds_own_host(link: str, expected: str) -> None:
    rewrite = LinkRewrite(
        "https://graph.microsoft.com", "https://proxy.corp.example/graph/", enabled=True
    )
    assert rewrite(link) == expected
    off = LinkRewrite("https://graph.microsoft.com", "https://proxy.corp.example", enabled=False)
    assert off(link) == link
    same = LinkRewrite("https://graph.microsoft.com", "https://graph.microsoft.com", enabled=True)
    assert not same.enabled


@pytest.mark.parametrize(
    ("status", "kind"),
    [(429, GraphThrottledError), (500, GraphUnavailableError), (503, GraphUnavailableError)],
)
def test_status_classes(status: int, kind: type[GraphError]) -> None:
    error = error_from_response(status, {}, body("x", "y"), BASE, "crid-1", note=" (gave up)")
    assert type(error) is kind
    assert error.client_request_id == "crid-1"
    assert "request-id none" in str(error)
    assert error.message == "y (gave up)"


def test_non_json_error_body_still_gives_a_message() -> None:
    error = error_from_response(400, {}, b"<html>Bad Request</html>", BASE)
    assert type(error) is GraphError
    assert error.code is None
    assert "Bad Request" in error.message
    assert parse_error_body(b"{not json") == (None, None)
    assert parse_error_body(b'{"error": "flat"}') == (None, None)


def test_unverified_claims_reads_roles_without_a_signature() -> None:
    payload = base64.urlsafe_b64encode(orjson.dumps({"roles": ["User.Read.All"], "tid": "t"}))
    token = "e30." + payload.decode().rstrip("=") + ".sig"
    assert unverified_claims(token) == {"roles": ["User.Read.All"], "tid": "t"}
    assert unverified_claims("not-a-jwt") == {}
    assert unverified_claims("a.!!!.c") == {}
