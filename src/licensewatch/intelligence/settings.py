"""Intelligence settings stored in the database: cost attribute, inactivity and lapse windows."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

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


def _check(key: str, value: str) -> str:
    if key not in DEFAULTS:
        raise ValueError(f"unknown setting {key!r}: choose from {', '.join(DEFAULTS)}")
    if key == "cost_attribute":
        return CostAttribute(value).value
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
