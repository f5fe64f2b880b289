"""Which section of the balance a SKU belongs to: paid products, free (viral) ones, tenant-wide."""

from __future__ import annotations

import re
from enum import StrEnum


class Section(StrEnum):
    """Paid products are counted, priced and flagged; the other two are shown apart."""

    PAID = "paid"
    FREE = "free"  # free or viral SKUs: huge fixed unit counts that nobody bought
    COMPANY = "company"  # appliesTo "Company": tenant-wide units (storage, credits), not seats


# Free ("viral") SKUs whose part number does not say so (see Microsoft's product-name CSV).
FREE_PART_NUMBERS = frozenset(
    {
        "FLOW_FREE",
        "POWER_BI_STANDARD",
        "POWER_BI_STANDARD_FACULTY",
        "POWER_BI_STANDARD_STUDENT",
        "POWER_BI_INDIVIDUAL_USER",
        "POWERAPPS_DEV",
        "POWERAPPS_INDIVIDUAL_USER",
        "TEAMS_EXPLORATORY",
        "TEAMS_FREE",
        "MS_TEAMS_IW",
        "TEAMS_COMMERCIAL_TRIAL",
        "SMB_APPS",
        "STREAM",
        "WINDOWS_STORE",
        "RIGHTSMANAGEMENT_ADHOC",
        "CCIBOTS_PRIVPREV_VIRAL",
        "FORMS_PRO",  # Dynamics 365 Customer Voice Trial: 1,000,000 units
        "DYN365_ENTERPRISE_P1_IW",  # Dynamics 365 P1 Trial for Information Workers: 10,000
        "D365_SALES_PRO_IW",
        "PROJECT_MADEIRA_PREVIEW_IW_SKU",
    }
)
# Words that mark a self-service free or viral SKU in a part number (FLOW_FREE, *_VIRAL, *_vTrial).
_FREE_WORDS = frozenset({"free", "viral", "vtrial"})
_WORD = re.compile(r"[a-z0-9]+")


def is_free(part_number: str) -> bool:
    """Whether a part number names a free or viral SKU."""
    if part_number.upper() in FREE_PART_NUMBERS:
        return True
    return not _FREE_WORDS.isdisjoint(_WORD.findall(part_number.lower()))


def section(part_number: str, applies_to: str | None) -> Section:
    """The balance section of a SKU, from its part number and Graph's `appliesTo`."""
    if (applies_to or "").lower() == "company":
        return Section.COMPANY
    return Section.FREE if is_free(part_number) else Section.PAID
