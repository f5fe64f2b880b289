"""Account findings: licences held by disabled accounts and by guests."""

from __future__ import annotations

from licensewatch.intelligence.findings.base import Context, Finding, FindingRule, user_finding
from licensewatch.storage.models import User

DISABLED_FIX = (
    "Remove the licences of accounts that are blocked from signing in (leavers), or convert "
    "their mailbox to a shared mailbox first if its content must stay reachable."
)
GUEST_FIX = (
    "Guests rarely need a paid licence: remove it from the guest, or invite the person as a "
    "member if they work for you."
)


def disabled_holders(context: Context) -> Finding:
    finding = Finding(
        FindingRule.DISABLED_HOLDERS,
        "Disabled accounts holding licences",
        context.tenant,
        "users",
        DISABLED_FIX,
    )
    rows = context.session.execute(context.users().where(User.account_enabled.is_(False)))
    return user_finding(context, finding, rows)


def guest_holders(context: Context) -> Finding:
    finding = Finding(
        FindingRule.GUEST_HOLDERS, "Guests holding licences", context.tenant, "users", GUEST_FIX
    )
    rows = context.session.execute(context.users().where(User.user_type == "Guest"))
    return user_finding(context, finding, rows)
