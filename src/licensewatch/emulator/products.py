"""Microsoft 365 products (SKUs, service plans) the emulator sells, with Microsoft's real GUIDs."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from licensewatch.domain.catalog import parse_catalog
from licensewatch.emulator.state import Product, ServicePlan

# Real servicePlanIds from "Product names and service plan identifiers for licensing"
# (learn.microsoft.com/entra/identity/users/licensing-service-plan-reference).
PLAN_IDS: dict[str, str] = {
    "AAD_PREMIUM": "41781fb2-bc02-4b7c-bd55-b576c07bb09d",
    "AAD_PREMIUM_P2": "eec0eb4f-6444-4f95-aba0-50c24d67f998",
    "ADALLOM_S_DISCOVERY": "932ad362-64a8-4783-9106-97849a1a30b9",
    "ADALLOM_S_STANDALONE": "2e2ddb96-6af9-4b1d-a3f0-d6ecfd22edb2",
    "ATA": "14ab5db5-e6c4-4b20-b4bc-13e36fd2227f",
    "ATP_ENTERPRISE": "f20fedf3-f3c3-43c3-8267-2bfdd51c0939",
    "BI_AZURE_P0": "2049e525-b859-401b-b2a0-e0a31c4b1fe4",
    "BI_AZURE_P2": "70d33638-9c74-4d01-bfd3-562de28bd4ba",
    "DYN365_CDS_PROJECT": "50554c47-71d9-49fd-bc54-42a2765c555c",
    "DYN365_CDS_VIRAL": "17ab22cd-a0b3-4536-910a-cb6eb12696c0",
    "EXCHANGE_S_DESKLESS": "4a82b400-a79f-41a4-b4e2-e94f5787b113",
    "EXCHANGE_S_ENTERPRISE": "efb87545-963c-4e0d-99df-69c6916d9eb0",
    "EXCHANGE_S_FOUNDATION": "113feb6c-3fe4-4440-bddc-54d774bf0318",
    "EXCHANGE_S_STANDARD": "9aaf7827-d63c-4b61-89c3-182f06f82e5c",
    "FLOW_FOR_PROJECT": "fa200448-008c-4acb-abd4-ea106ed2199d",
    "FLOW_P2_VIRAL": "50e68c76-46c6-4674-81f9-75456511b170",
    "FORMS_PLAN_E1": "159f4cd6-e380-449f-a816-af1a9ef76344",
    "INTUNE_A": "c1ec4a95-1f05-45b3-a911-aa3fa01094f5",
    "INTUNE_O365": "882e1d05-acd1-4ccb-8708-6ee03664b117",
    "INTUNE_P2": "d9923fe3-a2de-4d29-a5be-e3e83bb786be",
    "Intune-EPM": "bb73f429-78ef-4ff2-83c8-722b04c3e7d1",
    "Intune-MAMTunnel": "a6e407da-7411-4397-8a2e-d9b52780849e",
    "Intune_AdvancedEA": "2a4baa0e-5e99-4c38-b1f2-6864960f1bd1",
    "MCOEV": "4828c8ec-dc2e-4779-b502-87ac9ce28ab7",
    "MCOSTANDARD": "0feaeb32-d00e-4d66-bd5a-43b5b83db82c",
    "MCO_TEAMS_IW": "42a3ec34-28ba-46b6-992f-db53a675ac5b",
    "MFA_PREMIUM": "8a256a2b-b617-496d-b51b-e76466e88db0",
    "OFFICEMOBILE_SUBSCRIPTION": "c63d4d19-e8cb-460e-b37c-4d6c34603745",
    "OFFICESUBSCRIPTION": "43de0ff5-c92c-492b-9116-175376d08c38",
    "OFFICE_BUSINESS": "094e7854-93fc-4d55-b2c0-3ab5369ebdc1",
    "ONEDRIVE_BASIC": "da792a53-cbc0-4184-a10d-e544dd34b3c1",
    "PROJECT_CLIENT_SUBSCRIPTION": "fafd7243-e5c1-4a3a-9e40-495efcb1d3c3",
    "PROJECT_PROFESSIONAL": "818523f5-016b-4355-9be8-ed6944946ea7",
    "REMOTE_HELP": "a4c6cf29-1168-4076-ba5c-e8fe0e62b17e",
    "RMS_S_ENTERPRISE": "bea4c11e-220a-4e6d-8eb8-8ea15d019f90",
    "RMS_S_PREMIUM": "6c57d4b6-3b23-47a5-9bc9-69f17b4947b3",
    "RMS_S_PREMIUM2": "5689bec4-755d-4753-8b61-40975025187c",
    "SHAREPOINTDESKLESS": "902b47e5-dcb2-4fdc-858b-c63a90a2bdb9",
    "SHAREPOINTENTERPRISE": "5dbe027f-2339-4123-9542-606e4d348a72",
    "SHAREPOINTSTANDARD": "c7699d2e-19aa-44de-8edf-1736da088ca1",
    "SHAREPOINTWAC": "e95bec33-7c88-4a70-8e19-b10bd9d0c014",
    "SHAREPOINT_PROJECT": "fe71d6c3-a2ea-4499-9778-da042bf08063",
    "SHAREPOINTSTORAGE": "be5a7ed5-c598-4fcd-a061-5e6724c68a58",
    "TEAMS1": "57ff2da0-773e-42df-b2af-ffb7a2317929",
    "VISIOONLINE": "2bdbaf8f-738f-4ac7-9234-3c3ee2ce7d0f",
    "VISIO_CLIENT_SUBSCRIPTION": "663a804f-1c30-4ff0-9915-9db84f0d1cea",
    "WINDEFATP": "871d91ec-ec1a-452b-a83f-bd76c7d770ef",
}

# Plans that Graph reports with appliesTo "Company" (tenant-level, not per user).
_COMPANY_PLANS = frozenset({"EXCHANGE_S_FOUNDATION", "SHAREPOINTSTORAGE"})
# SKUs with appliesTo "Company": tenant-wide units (1 GB of SharePoint storage each), never
# assignable to users, so consumedUnits stays 0 (subscribedSku: "Only SKUs with target class User
# are assignable").
COMPANY_SKUS = frozenset({"SHAREPOINTSTORAGE"})

_O365_E3 = (
    "EXCHANGE_S_ENTERPRISE SHAREPOINTENTERPRISE OFFICESUBSCRIPTION TEAMS1 MCOSTANDARD SHAREPOINTWAC"
)
_M365_E3 = (
    "EXCHANGE_S_ENTERPRISE SHAREPOINTENTERPRISE OFFICESUBSCRIPTION TEAMS1 MCOSTANDARD "
    "SHAREPOINTWAC AAD_PREMIUM INTUNE_A"
)
_BUSINESS_STD = (
    "EXCHANGE_S_STANDARD SHAREPOINTSTANDARD OFFICE_BUSINESS TEAMS1 MCOSTANDARD SHAREPOINTWAC"
)
_EMS_E3 = "AAD_PREMIUM RMS_S_PREMIUM RMS_S_ENTERPRISE MFA_PREMIUM INTUNE_A EXCHANGE_S_FOUNDATION"

# (skuPartNumber, skuId, display name, plans). E3 plans ⊂ E5 plans in each family, as in reality.
_CATALOG: tuple[tuple[str, str, str, str], ...] = (
    ("ENTERPRISEPACK", "6fd2c87f-b296-42f0-b197-1e91e994b900", "Office 365 E3",
     f"{_O365_E3} RMS_S_ENTERPRISE INTUNE_O365"),
    ("STANDARDPACK", "18181a46-0d4e-45cd-891e-60aabd171b4e", "Office 365 E1",
     "EXCHANGE_S_STANDARD SHAREPOINTSTANDARD SHAREPOINTWAC TEAMS1 MCOSTANDARD FORMS_PLAN_E1"),
    ("DESKLESSPACK", "4b585984-651b-448a-9e53-3b10f069cf7f", "Office 365 F3",
     "EXCHANGE_S_DESKLESS SHAREPOINTDESKLESS SHAREPOINTWAC TEAMS1 OFFICEMOBILE_SUBSCRIPTION"),
    ("ENTERPRISEPREMIUM", "c7df2760-2c81-4ef7-b578-5b5392b571df", "Office 365 E5",
     f"{_O365_E3} RMS_S_ENTERPRISE INTUNE_O365 MCOEV ATP_ENTERPRISE"),
    ("SPE_E3", "05e9a617-0261-4cee-bb44-138d3ef5d965", "Microsoft 365 E3",
     f"{_M365_E3} MFA_PREMIUM"),
    ("SPE_E5", "06ebc4ee-1bb5-47dd-8120-11324bc54e06", "Microsoft 365 E5",
     f"{_M365_E3} MFA_PREMIUM AAD_PREMIUM_P2 MCOEV WINDEFATP"),
    ("SPB", "cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46", "Microsoft 365 Business Premium",
     f"{_BUSINESS_STD} AAD_PREMIUM INTUNE_A ATP_ENTERPRISE MFA_PREMIUM"),
    ("O365_BUSINESS_PREMIUM", "f245ecc8-75af-4f8e-b61f-27d8114de5f3",
     "Microsoft 365 Business Standard", _BUSINESS_STD),
    ("O365_BUSINESS_ESSENTIALS", "3b555118-da6a-4418-894f-7df1e2096870",
     "Microsoft 365 Business Basic",
     "EXCHANGE_S_STANDARD SHAREPOINTSTANDARD TEAMS1 MCOSTANDARD SHAREPOINTWAC "
     "OFFICEMOBILE_SUBSCRIPTION"),
    ("EMS", "efccb6f7-5641-4e0e-bd10-b4976e1bf68e", "Enterprise Mobility + Security E3", _EMS_E3),
    ("EMSPREMIUM", "b05e124f-c7cc-45a0-a6aa-8cf78c946968", "Enterprise Mobility + Security E5",
     f"{_EMS_E3} AAD_PREMIUM_P2 RMS_S_PREMIUM2 ADALLOM_S_STANDALONE ATA"),
    ("AAD_PREMIUM", "078d2b04-f1bd-4111-bbd4-b4b1b354cef4", "Microsoft Entra ID P1",
     "AAD_PREMIUM ADALLOM_S_DISCOVERY EXCHANGE_S_FOUNDATION MFA_PREMIUM"),
    ("AAD_PREMIUM_P2", "84a661c4-e949-4bd2-a560-ed7766fcaf2b", "Microsoft Entra ID P2",
     "AAD_PREMIUM AAD_PREMIUM_P2 ADALLOM_S_DISCOVERY EXCHANGE_S_FOUNDATION MFA_PREMIUM"),
    ("POWER_BI_PRO", "f8a1db68-be16-40ed-86d5-cb42ce701560", "Power BI Pro",
     "EXCHANGE_S_FOUNDATION BI_AZURE_P2"),
    ("POWER_BI_STANDARD", "a403ebcc-fae0-4ca2-8c8c-7a907fd6c235", "Microsoft Fabric (Free)",
     "EXCHANGE_S_FOUNDATION BI_AZURE_P0"),
    ("FLOW_FREE", "f30db892-07e9-47e9-837c-80727f46fd3d", "Microsoft Power Automate Free",
     "DYN365_CDS_VIRAL EXCHANGE_S_FOUNDATION FLOW_P2_VIRAL"),
    ("Microsoft_Intune_Suite", "a929cd4d-8672-47c9-8664-159c1f322ba8", "Microsoft Intune Suite",
     "Intune_AdvancedEA Intune-EPM INTUNE_P2 Intune-MAMTunnel REMOTE_HELP"),
    ("VISIOCLIENT", "c5928f49-12ba-48f7-ada3-0d743a3601d5", "Visio Plan 2",
     "EXCHANGE_S_FOUNDATION ONEDRIVE_BASIC VISIO_CLIENT_SUBSCRIPTION VISIOONLINE"),
    ("PROJECTPROFESSIONAL", "53818b1b-4a27-454b-8896-0dba576410e6", "Planner and Project Plan 3",
     "DYN365_CDS_PROJECT EXCHANGE_S_FOUNDATION FLOW_FOR_PROJECT PROJECT_CLIENT_SUBSCRIPTION "
     "SHAREPOINT_PROJECT PROJECT_PROFESSIONAL"),
    ("Microsoft_Teams_Exploratory_Dept", "e0dfc8b9-9531-4ec8-94b4-9fec23b05fc8",
     "Microsoft Teams Exploratory Dept",
     "TEAMS1 MCO_TEAMS_IW EXCHANGE_S_STANDARD SHAREPOINTSTANDARD SHAREPOINTWAC FORMS_PLAN_E1 "
     "OFFICEMOBILE_SUBSCRIPTION"),
    ("SHAREPOINTSTORAGE", "99049c9c-6011-4908-bf17-15f496e6519d", "Office 365 Extra File Storage",
     "SHAREPOINTSTORAGE"),
)  # fmt: skip

# Free ("viral") SKUs come with a huge fixed number of enabled units
# (prepaidUnits of learn.microsoft.com/graph/api/resources/subscribedsku).
FREE_UNITS: dict[str, int] = {"FLOW_FREE": 10_000, "POWER_BI_STANDARD": 1_000_000}


def _plan(name: str, plan_id: str) -> ServicePlan:
    return ServicePlan(plan_id, name, "Company" if name in _COMPANY_PLANS else "User")


def builtin_catalog() -> dict[str, Product]:
    """The built-in products by skuPartNumber."""
    return {
        part: Product(
            sku_id,
            part,
            display,
            tuple(_plan(n, PLAN_IDS[n]) for n in plans.split()),
            "Company" if part in COMPANY_SKUS else "User",
        )
        for part, sku_id, display, plans in _CATALOG
    }


def load_catalog_csv(path: Path) -> list[Product]:
    """Products from Microsoft's licensing CSV, one per SKU GUID (the product's strict parser)."""
    catalog = parse_catalog(path.read_bytes())
    return [
        Product(
            product.sku_id,
            product.part_number,
            product.name,
            tuple(_plan(plan.name, plan.plan_id) for plan in product.plans.values() if plan.name),
            "Company" if product.part_number in COMPANY_SKUS else "User",
        )
        for product in catalog.products.values()
    ]


def merged_catalog(extra: Iterable[Product]) -> dict[str, Product]:
    """The built-in catalogue widened by extra products, by part number.

    An extra product replaces a built-in one of the same skuId or part number (the CSV is newer than
    our compact copy).
    """
    catalog = builtin_catalog()
    by_sku = {p.sku_id: part for part, p in catalog.items()}
    for product in extra:
        old = by_sku.get(product.sku_id)
        if old is not None and old != product.part_number:
            del catalog[old]
        catalog[product.part_number] = product
        by_sku[product.sku_id] = product.part_number
    return catalog
