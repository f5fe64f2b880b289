"""Friendly names of common Microsoft 365 SKUs, used until Microsoft's CSV is imported."""

from __future__ import annotations

from licensewatch.domain.sections import FREE_PART_NUMBERS

# skuPartNumber → product name, as Microsoft's product-name CSV spells it.
BUILTIN_NAMES: dict[str, str] = {
    "AAD_PREMIUM": "Microsoft Entra ID P1",
    "AAD_PREMIUM_P2": "Microsoft Entra ID P2",
    "ATP_ENTERPRISE": "Microsoft Defender for Office 365 (Plan 1)",
    "DEFENDER_ENDPOINT_P1": "Microsoft Defender for Endpoint P1",
    "DESKLESSPACK": "Office 365 F3",
    "EMS": "Enterprise Mobility + Security E3",
    "EMSPREMIUM": "Enterprise Mobility + Security E5",
    "ENTERPRISEPACK": "Office 365 E3",
    "ENTERPRISEPREMIUM": "Office 365 E5",
    "ENTERPRISEPREMIUM_NOPSTNCONF": "Office 365 E5 (without Audio Conferencing)",
    "EXCHANGEENTERPRISE": "Exchange Online (Plan 2)",
    "EXCHANGESTANDARD": "Exchange Online (Plan 1)",
    "FLOW_FREE": "Microsoft Power Automate Free",
    "INTUNE_A": "Microsoft Intune Plan 1",
    "MCOEV": "Microsoft Teams Phone Standard",
    "MCOMEETADV": "Microsoft 365 Audio Conferencing",
    "Microsoft_365_Copilot": "Microsoft 365 Copilot",
    "Microsoft_Intune_Suite": "Microsoft Intune Suite",
    "Microsoft_Teams_Exploratory_Dept": "Microsoft Teams Exploratory Dept",
    "O365_BUSINESS": "Microsoft 365 Apps for Business",
    "O365_BUSINESS_ESSENTIALS": "Microsoft 365 Business Basic",
    "O365_BUSINESS_PREMIUM": "Microsoft 365 Business Standard",
    "OFFICESUBSCRIPTION": "Microsoft 365 Apps for enterprise",
    "POWER_BI_PRO": "Power BI Pro",
    "POWER_BI_STANDARD": "Microsoft Fabric (Free)",
    "PROJECTPROFESSIONAL": "Planner and Project Plan 3",
    "SHAREPOINTSTORAGE": "Office 365 Extra File Storage",
    "SPB": "Microsoft 365 Business Premium",
    "SPE_E3": "Microsoft 365 E3",
    "SPE_E5": "Microsoft 365 E5",
    "SPE_F1": "Microsoft 365 F3",
    "STANDARDPACK": "Office 365 E1",
    "VISIOCLIENT": "Visio Plan 2",
    "WIN_DEF_ATP": "Microsoft Defender for Endpoint",
}

# Free ("viral") SKUs are defined once, in the domain (domain/sections.py).
__all__ = ["BUILTIN_NAMES", "FREE_PART_NUMBERS", "builtin_name"]

_BY_LOWER = {part.lower(): name for part, name in BUILTIN_NAMES.items()}


def builtin_name(part_number: str) -> str | None:
    """The built-in friendly name of a part number (case-insensitive), or None."""
    return _BY_LOWER.get(part_number.lower())
