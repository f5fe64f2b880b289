"""Users' licenseAssignmentStates read by id, for delta items that came without them."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from licensewatch.graph.client import GraphClient
from licensewatch.graph.errors import GraphError
from licensewatch.sync import collectors

log = logging.getLogger(__name__)
STATES = "licenseAssignmentStates"
# Graph allows at most 15 values in a `$filter=id in (…)` clause (and 15 or-ed eq clauses).
IDS_PER_REQUEST = 15
WORKERS = 4  # requests in flight (the client is thread-safe; Graph's latency dominates)
# Beyond this many users (200 requests), a full sync is cheaper than reading them by id.
MAX_USERS = 3_000
_FIELDS = "id,assignedLicenses,licenseAssignmentStates"


def lacks_states(item: Any) -> bool:
    """A live delta item without a licenseAssignmentStates list (Graph does not track it)."""
    return (
        isinstance(item, dict) and "@removed" not in item and not isinstance(item.get(STATES), list)
    )


def _chunks(ids: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(ids), IDS_PER_REQUEST):
        yield ids[start : start + IDS_PER_REQUEST]


def fetch(client: GraphClient, ids: Iterable[str]) -> dict[str, list[Any]] | None:
    """licenseAssignmentStates of these users from /users (id → states); None when unavailable.

    A user missing from the answer was deleted since the delta page was written: the caller
    keeps what it knows. None (a failed read, or too many users to read one by one) makes the
    caller keep the stored states and ask for a full sync next, rather than read
    assignedLicenses as direct assignments.
    """
    wanted = sorted(set(ids))
    if len(wanted) > MAX_USERS:
        log.info("%d users lack licence states: a full sync will reconcile them", len(wanted))
        return None
    found: dict[str, list[Any]] = {}
    try:
        with ThreadPoolExecutor(WORKERS, thread_name_prefix="graph-states") as pool:
            for part in pool.map(lambda chunk: _read(client, chunk), _chunks(wanted)):
                found.update(part)
    except GraphError as exc:
        log.warning("licence states by id unavailable (%s): keeping the stored ones", exc)
        return None
    return found


def _read(client: GraphClient, chunk: list[str]) -> dict[str, list[Any]]:
    quoted = ",".join("'" + uid.replace("'", "''") + "'" for uid in chunk)
    params = {"$filter": f"id in ({quoted})", "$select": _FIELDS}
    found: dict[str, list[Any]] = {}
    for page in client.iter_pages("/users", params, prefetch=False):
        for user in page.items:
            uid = collectors.user_id(user)
            states = user.get(STATES) if uid else None
            if uid and isinstance(states, list):
                found[uid] = states
    return found
