"""The users a userPrincipalName-only $filter matches, remembered per tenant version.

Graph answers a filtered page from an index. Scanning the whole tenant for every page of every
range (and again for each `$count`) made the emulator, not the client, the bottleneck of a
sharded read: 8 ranges of a 300k tenant cost it millions of predicate calls. The positions of
the matches are computed once per filter and tenant version (any user change bumps it) and
paged by bisection, with exactly the results of a scan.
"""

from __future__ import annotations

import bisect
import re
from collections import OrderedDict
from collections.abc import Callable

from licensewatch.emulator.state import Tenant, User

_QUOTED = re.compile(r"'(?:[^']|'')*'")
_WORD = re.compile(r"[A-Za-z_][A-Za-z_]*")
_ALLOWED = frozenset(
    {"userprincipalname", "and", "or", "not", "eq", "ne", "ge", "gt", "le", "lt"}
    | {"startswith", "endswith", "in"}
)
_CAPACITY = 64  # filters remembered (a sharded read uses one per range)
_positions: OrderedDict[tuple[str, int, str], list[int]] = OrderedDict()


def indexable(filter_text: str) -> bool:
    """Whether the filter reads userPrincipalName only (its result then depends on users only)."""
    words = _WORD.findall(_QUOTED.sub(" ", filter_text))
    return bool(words) and all(word.lower() in _ALLOWED for word in words)


def matches(tenant: Tenant, filter_text: str, predicate: Callable[[User], bool]) -> list[int]:
    """Increasing positions of the live users the filter matches."""
    key = (tenant.tenant_id, tenant.version, filter_text)
    found = _positions.get(key)
    if found is None:
        found = [pos for pos, user in tenant.iter_users_from(0) if predicate(user)]
        _positions[key] = found
        while len(_positions) > _CAPACITY:
            _positions.popitem(last=False)
    else:
        _positions.move_to_end(key)
    return found


def page(
    tenant: Tenant, positions: list[int], start: int, top: int
) -> tuple[list[User], int | None]:
    """What paging.take_page gives for the filter: `top` users from `start`, the next position."""
    first = bisect.bisect_left(positions, start)
    chosen = positions[first : first + top + 1]
    users = [user for pos in chosen[:top] if (user := tenant.user_at(pos)) is not None]
    return users, chosen[top] if len(chosen) > top else None
