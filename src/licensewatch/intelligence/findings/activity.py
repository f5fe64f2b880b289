"""Sign-in findings: licensed users inactive for N days, and licensed users who never signed in."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import ColumnElement, and_, or_

from licensewatch.intelligence.findings.base import Context, Finding, FindingRule, user_finding
from licensewatch.storage.models import User

UNAVAILABLE = (
    "sign-in data is not collected for this tenant: it needs the Microsoft Graph application "
    "permission AuditLog.Read.All (with admin consent) AND an Entra ID P1 or P2 licence in the "
    "tenant; add the permission, then sync again"
)
INACTIVE_FIX = (
    "Ask the users' managers whether they still need the licence; remove it (or block the "
    "account) for leavers. Exclude service accounts that never sign in interactively."
)
NEVER_FIX = (
    "Check whether these accounts are used at all (new hires who have not started, shared or "
    "service accounts); remove the licence when nobody signs in with them."
)
_ACTIVITY = (
    User.last_sign_in_at,
    User.last_non_interactive_sign_in_at,
    User.last_successful_sign_in_at,
)


def _never() -> ColumnElement[bool]:
    return and_(*(column.is_(None) for column in _ACTIVITY))


def _finding(context: Context, rule: FindingRule, title: str, fix: str) -> Finding | None:
    finding = Finding(rule, title, context.tenant, "users", fix)
    if not context.sign_in_data:
        finding.unavailable = UNAVAILABLE
        return finding
    return None


def inactive_users(context: Context) -> Finding:
    """Enabled licensed users whose every sign-in is older than the window."""
    days = context.inactive_days
    title = f"Licensed users inactive for more than {days} days"
    unavailable = _finding(context, FindingRule.INACTIVE_USERS, title, INACTIVE_FIX)
    if unavailable is not None:
        return unavailable
    cutoff = context.now - timedelta(days=days)
    old = and_(*(or_(column.is_(None), column < cutoff) for column in _ACTIVITY))
    statement = context.users().where(User.account_enabled.is_not(False), old, ~_never())
    finding = Finding(FindingRule.INACTIVE_USERS, title, context.tenant, "users", INACTIVE_FIX)
    return user_finding(context, finding, context.session.execute(statement))


def never_signed_in(context: Context) -> Finding:
    """Enabled licensed users without any recorded sign-in."""
    title = "Licensed users who never signed in"
    unavailable = _finding(context, FindingRule.NEVER_SIGNED_IN, title, NEVER_FIX)
    if unavailable is not None:
        return unavailable
    statement = context.users().where(User.account_enabled.is_not(False), _never())
    finding = Finding(FindingRule.NEVER_SIGNED_IN, title, context.tenant, "users", NEVER_FIX)
    return user_finding(context, finding, context.session.execute(statement))
