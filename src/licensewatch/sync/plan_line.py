"""One change-plan line: read the user's licences, refuse, send, or settle an interrupted call."""

from __future__ import annotations

from sqlalchemy import Engine

from licensewatch.domain.plans import WRITE_ROLE, Holding, LineState, join_plans, refusal
from licensewatch.graph.client import GraphClient
from licensewatch.graph.errors import GraphAuthorizationError, GraphError, GraphThrottledError
from licensewatch.graph.licence_writes import assign_license, read_holdings
from licensewatch.services.plan_views import LineView
from licensewatch.storage.database import session_scope
from licensewatch.storage.models.base import utcnow
from licensewatch.storage.models.plans import ChangePlanLine

ENTRA_STEPS = (
    "In the Microsoft Entra admin center: Identity > Applications > App registrations > <the app> "
    f"> API permissions > Add a permission > Microsoft Graph > Application permissions > "
    f"{WRITE_ROLE} > Add permissions, then 'Grant admin consent for <tenant>'"
)


def _save(engine: Engine, line_id: int, **values: object) -> None:
    """Persist one line's state in its own transaction, before or after its call."""
    with session_scope(engine) as session:
        row = session.get_one(ChangePlanLine, line_id)
        for name, value in values.items():
            setattr(row, name, value)


def _applied(engine: Engine, line_id: int, request_id: str | None = None) -> None:
    values: dict[str, object] = {"request_id": request_id} if request_id else {}
    _save(engine, line_id, state=LineState.APPLIED, applied_at=utcnow(), error=None, **values)


def _failed(
    engine: Engine, line_id: int, code: str | None, error: str, request_id: str | None = None
) -> None:
    values: dict[str, object] = {"request_id": request_id} if request_id else {}
    _save(engine, line_id, state=LineState.FAILED, error_code=code, error=error, **values)


def _prior(holdings: list[Holding], sku_id: str) -> str | None:
    direct = [h for h in holdings if h.sku_id == sku_id and h.group is None]
    return join_plans(direct[0].disabled_plans) if direct else None


def line_prior(line: LineView) -> str | None:
    return join_plans(line.prior_disabled_plans) or None


def _done_meanwhile(client: GraphClient, user: str, line: LineView) -> bool:
    try:
        return line.spec.done(read_holdings(client, user))
    except GraphError:
        return False


def send_line(
    engine: Engine, client: GraphClient, line: LineView, groups: dict[str, str]
) -> str | None:
    """Send one line (or settle an interrupted one); a reason to stop the batch, or None."""
    spec = line.spec
    user = line.user_id
    try:
        holdings = read_holdings(client, user)
    except GraphError as exc:
        if exc.status == 404:
            _failed(engine, line.id, exc.code, "the user no longer exists", exc.request_id)
            return None
        return f"could not read {line.user_principal_name or user}'s licences: {exc}"
    if line.state == LineState.SENDING:  # killed or cut off mid-call: what did Microsoft do?
        if spec.done(holdings):
            _applied(engine, line.id)
            return None
        if not spec.untouched(holdings):
            changed = "the user's licences changed while the call went unanswered: not re-sent"
            _failed(engine, line.id, "changedMeanwhile", changed)
            return None
    problem = refusal(spec, holdings, groups)
    if problem:
        _failed(engine, line.id, "refusedBeforeSending", problem)
        return None
    prior = _prior(holdings, spec.sku_id)
    _save(
        engine,
        line.id,
        state=LineState.SENDING,
        attempts=line.attempts + 1,
        prior_disabled_plans=prior if prior is not None else line_prior(line),
    )
    try:
        result = assign_license(client, user, spec.assign_body())
    except GraphAuthorizationError as exc:
        _save(engine, line.id, state=LineState.PENDING, error_code=exc.code, error=str(exc))
        return f"the app may not assign licences ({exc.message}). {ENTRA_STEPS}"
    except GraphThrottledError as exc:
        _save(engine, line.id, state=LineState.PENDING, error_code=exc.code, error=str(exc))
        return f"still throttled by Microsoft after retries: run `plan apply` again later ({exc})"
    except GraphError as exc:
        if exc.uncertain or exc.status is None:  # unknown outcome: settled by the next run
            _save(engine, line.id, error_code=exc.code, error=str(exc))
            return f"no answer for {line.user_principal_name or user}: {exc}"
        if line.state == LineState.SENDING and _done_meanwhile(client, user, line):
            # The interrupted call landed after we looked ("no such licence" to the re-send).
            _applied(engine, line.id)
            return None
        _failed(engine, line.id, exc.code, exc.message, exc.request_id)
        return None
    _save(
        engine,
        line.id,
        state=LineState.APPLIED,
        request_id=result.request_id,
        applied_at=utcnow(),
        error=None,
        error_code=None,
    )
    return None
