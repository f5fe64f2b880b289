"""Graph emulator /users/delta: initial round, changes with @removed, expiry (410), limits."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from test_graph_helpers import E3, Env, add_person, make_env, make_tenant

from licensewatch.emulator import state

SELECT = "id,displayName,department,assignedLicenses"


def follow(env: Env, url: str) -> tuple[list[dict[str, Any]], str, int]:
    """Every value of a round, its deltaLink and the number of pages."""
    values: list[dict[str, Any]] = []
    pages = 0
    next_url: str | None = url
    while next_url:
        response = env.get(next_url)
        assert response.status_code == 200, response.text
        page = response.json()
        pages += 1
        assert not ("@odata.nextLink" in page and "@odata.deltaLink" in page)
        values += page["value"]
        if "@odata.deltaLink" in page:
            return values, page["@odata.deltaLink"], pages
        next_url = page["@odata.nextLink"]
    raise AssertionError("round ended without a deltaLink")


def test_initial_round_pages_everyone_then_changes_only() -> None:
    env = make_env(make_tenant(450))
    values, delta_link, pages = follow(env, f"/v1.0/users/delta?$select={SELECT}")
    assert pages == 3  # ~200 per page whatever the client wants
    assert [v["id"] for v in values] == [u.id for _, u in env.tenant.iter_users_from(0)]
    assert set(values[0]) <= set(SELECT.split(","))
    tenant = env.tenant
    people = [u for _, u in tenant.iter_users_from(0)]
    tenant.update_user(people[5].id, department="Finance")
    tenant.delete_user(people[6].id)
    hired = add_person(tenant, 10_000)
    tenant.unassign(people[0].id, E3)
    changes, second_link, _ = follow(env, delta_link)
    by_id = {v["id"]: v for v in changes}
    assert set(by_id) == {people[5].id, people[6].id, hired.id, people[0].id}
    assert by_id[people[5].id]["department"] == "Finance"
    assert by_id[people[5].id]["displayName"] == people[5].display_name  # unchanged props too
    assert by_id[people[6].id] == {"id": people[6].id, "@removed": {"reason": "deleted"}}
    assert by_id[people[0].id]["assignedLicenses"] == []
    again, _, _ = follow(env, second_link)
    assert again == []


def test_many_changes_are_paged_without_gaps() -> None:
    env = make_env(make_tenant(500))
    _, link, _ = follow(env, "/v1.0/users/delta?$select=id,department")
    changed = [u.id for _, u in env.tenant.iter_users_from(0)][:450]
    for uid in changed:
        env.tenant.update_user(uid, department="Ops")
    values, _, pages = follow(env, link)
    assert [v["id"] for v in values] == changed
    assert pages == 3
    assert all(v["department"] == "Ops" for v in values)


def test_default_property_set_and_latest() -> None:
    env = make_env(make_tenant(3))
    values, _, _ = follow(env, "/v1.0/users/delta")
    assert "businessPhones" in values[0]
    assert "accountEnabled" not in values[0]
    latest = env.get("/v1.0/users/delta?$deltatoken=latest").json()
    assert latest["value"] == []
    assert "@odata.deltaLink" in latest
    add_person(env.tenant, 99)
    changes, _, _ = follow(env, latest["@odata.deltaLink"])
    assert len(changes) == 1


def assert_gone(env: Env, link: str) -> None:
    response = env.get(link)
    assert response.status_code == 410
    assert response.json()["error"]["code"] == "syncStateNotFound"
    location = response.headers["location"]
    assert location.startswith("https://graph.test/v1.0/users/delta?")
    assert location.endswith("$deltatoken=")
    restarted, _, _ = follow(env, location)  # the Location restarts a full round
    assert len(restarted) == env.tenant.user_count()


def test_epoch_bump_expires_delta_and_skip_tokens() -> None:
    env = make_env(make_tenant(250))
    first = env.get("/v1.0/users/delta?$select=id").json()
    _, link, _ = follow(env, first["@odata.nextLink"])
    env.tenant.delta_epoch += 1
    assert_gone(env, link)
    assert env.get(first["@odata.nextLink"]).status_code == 410


def test_old_delta_tokens_expire(monkeypatch: pytest.MonkeyPatch) -> None:
    env = make_env(make_tenant(5))
    _, link, _ = follow(env, "/v1.0/users/delta?$select=id")
    real = state.utcnow
    monkeypatch.setattr(state, "utcnow", lambda: real() + timedelta(days=6))
    assert env.get(link).status_code == 200
    monkeypatch.setattr(state, "utcnow", lambda: real() + timedelta(days=7, seconds=5))
    assert_gone(env, link)


def test_delta_refuses_sign_in_activity_top_and_bad_tokens() -> None:
    env = make_env(make_tenant(3))
    response = env.get("/v1.0/users/delta?$select=id,signInActivity")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "BadRequest"
    assert response.json()["error"]["message"] == (
        "Invalid request for delta query: for this entity set, $expand/$select is not supported "
        "for the following properties: signInActivity"
    )
    assert env.get("/v1.0/users/delta?$top=5").status_code == 400
    assert env.get("/v1.0/users/delta?$deltatoken=bm9wZQ").status_code == 400
