"""Intelligence settings stored in the database: cost attribute, windows, the renewal buffer."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from licensewatch.domain.renewal_plan import MAX_BUFFER_PERCENT
from licensewatch.services.audit import append
from licensewatch.storage.database import session_scope
from licensewatch.storage.models.intelligence import IntelligenceSetting


class CostAttribute(StrEnum):
    """User attributes costs can be broken down by (columns of `users`)."""

    DEPARTMENT = "department"
    COUNTRY = "country"
    COMPANY_NAME = "company_name"
    COST_CENTER = "cost_center"
    USAGE_LOCATION = "usage_location"
    JOB_TITLE = "job_title"


DEFAULTS = {"cost_attribute": CostAttribute.COST_CENTER.value, "inactive_days": "90"}
DEFAULTS["lapse_days"] = "30"
# Disabled accounts seen disabled for fewer days get a medium-confidence removal (recommendations).
DEFAULTS["disabled_days"] = "30"
# Seats kept on top of the need when a subscription renews, in % (domain/renewal_plan.py).
DEFAULTS["renewal_buffer_percent"] = "10"


def _check(key: str, value: str) -> str:
    if key not in DEFAULTS:
        raise ValueError(f"unknown setting {key!r}: choose from {', '.join(DEFAULTS)}")
    if key == "cost_attribute":
        return CostAttribute(value).value
    if key == "renewal_buffer_percent":
        if not value.isdigit() or not 0 <= int(value) <= MAX_BUFFER_PERCENT:
            raise ValueError(f"{key} must be a whole percentage from 0 to {MAX_BUFFER_PERCENT}")
        return str(int(value))
    if not value.isdigit() or not 0 < int(value) <= 3650:
        raise ValueError(f"{key} must be a number of days between 1 and 3650")
    return value


def read_settings(session: Session) -> dict[str, str]:
    """Every setting, defaults filled in."""
    stored = {
        k: v for k, v in session.execute(select(IntelligenceSetting.key, IntelligenceSetting.value))
    }
    return {key: stored.get(key, default) for key, default in DEFAULTS.items()}


def write_setting(engine: Engine, key: str, value: str) -> str:
    """Validate and store one setting; returns the stored value."""
    value = _check(key, value.strip())
    with session_scope(engine) as session:
        row = session.get(IntelligenceSetting, key)
        if row is None:
            session.add(IntelligenceSetting(key=key, value=value))
        else:
            row.value = value
        append(session, "setting.changed", {"key": key, "value": value})
    return value
