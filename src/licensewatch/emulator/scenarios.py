"""Scenario recipes (products, people, problems) and the vocabulary seeded directories use."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from licensewatch.emulator.products import FREE_UNITS
from licensewatch.emulator.state import LicenseAssignment, Subscription, Tenant, User

# Subscription lifecycle features a scenario's tenants show (see seed._subscriptions).
SUBSCRIPTION_KINDS = frozenset({"monthly", "trial", "warning", "suspended", "locked_out"})


@dataclass(frozen=True)
class LicenceGroup:
    """A security group with a licence (group-based licensing); members inherit the SKU."""

    name: str
    part_number: str
    disabled_plans: tuple[str, ...] = ()  # service plan names


@dataclass(frozen=True)
class Scenario:
    name: str
    default_tenants: int
    users_range: tuple[int, int]  # users per tenant when the caller gives none
    base: tuple[tuple[str, float], ...]  # one main licence per licensed member, by weight
    addons: tuple[tuple[str, float], ...]  # extra SKUs, each with its own probability
    groups: tuple[LicenceGroup, ...] = ()
    group_route: float = 0.0  # chance a SKU that has a licence group is given through it
    duplicate_share: float = 0.0  # group-licensed users who also hold the same SKU directly
    departments: tuple[str, ...] = ("Sales", "Operations", "Finance", "IT")
    guest_share: float = 0.0
    guest_licensed_share: float = 0.0  # of guests
    disabled_share: float = 0.02  # disabled members that still hold their licences
    unlicensed_share: float = 0.1
    never_signed_in_share: float = 0.05
    stale_share: float = 0.08  # last sign-in more than 90 days ago
    synced_share: float = 0.0  # onPremisesSyncEnabled
    spare: tuple[float, float] = (0.0, 0.15)  # unused units as a share of holders
    kinds: frozenset[str] = field(default_factory=frozenset)  # SUBSCRIPTION_KINDS used
    over_assigned: tuple[str, ...] = ()  # SKUs given fewer units than holders
    extra_csv_products: int = 1  # products added from a --catalog CSV
    premium_every: int = 0  # every n-th tenant lacks Entra ID P1 (0: all have it)
    messy: bool = False
    lifecycle: bool = False  # lapsed, trial, Deleted, Company and free SKUs (emulator/lifecycle.py)


_ENTERPRISE_DEPARTMENTS = (
    "Sales", "Marketing", "Finance", "Human Resources", "IT", "Legal", "Operations", "Research",
    "Engineering", "Customer Service", "Procurement", "Logistics", "Facilities", "Executive",
)  # fmt: skip
_ENTERPRISE_ADDONS = (
    ("POWER_BI_PRO", 0.2), ("VISIOCLIENT", 0.05), ("PROJECTPROFESSIONAL", 0.03),
    ("FLOW_FREE", 0.15), ("EMSPREMIUM", 0.05), ("Microsoft_Intune_Suite", 0.02),
    ("AAD_PREMIUM_P2", 0.02), ("POWER_BI_STANDARD", 0.1),
)  # fmt: skip
_ENTERPRISE_GROUPS = (
    LicenceGroup("LIC-M365-E3", "SPE_E3"),
    LicenceGroup("LIC-M365-E5", "SPE_E5", ("MCOEV",)),
    LicenceGroup("LIC-PowerBI-Pro", "POWER_BI_PRO"),
)

_BASIC_GROUP = LicenceGroup("LIC-Business-Basic", "O365_BUSINESS_ESSENTIALS")
_O365 = (("O365_BUSINESS_PREMIUM", 0.4), ("O365_BUSINESS_ESSENTIALS", 0.2))
_M365 = (("SPE_E3", 0.45), ("SPE_E5", 0.15), ("ENTERPRISEPACK", 0.25))

SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            "small-office", 1, (25, 60),
            base=(("O365_BUSINESS_PREMIUM", 0.7), ("O365_BUSINESS_ESSENTIALS", 0.3)),
            addons=(("FLOW_FREE", 0.1), ("VISIOCLIENT", 0.04)),
            guest_share=0.04, guest_licensed_share=0.5, kinds=frozenset({"monthly"}),
        ),
        Scenario(
            "enterprise", 1, (50, 50),
            base=(*_M365, ("O365_BUSINESS_ESSENTIALS", 0.1)),
            addons=_ENTERPRISE_ADDONS, groups=_ENTERPRISE_GROUPS, group_route=0.4,
            duplicate_share=0.01, departments=_ENTERPRISE_DEPARTMENTS, guest_share=0.05,
            guest_licensed_share=0.1, synced_share=0.8, extra_csv_products=3,
            kinds=frozenset({"monthly", "trial", "warning"}),
        ),
        Scenario(
            "msp", 5, (5, 50),
            base=(("SPB", 0.4), *_O365),
            addons=(("FLOW_FREE", 0.1), ("Microsoft_Teams_Exploratory_Dept", 0.05)),
            guest_share=0.03, guest_licensed_share=0.3, kinds=frozenset({"monthly", "trial"}),
            premium_every=3,
        ),
        Scenario(
            "messy", 1, (50, 50),
            base=(*_M365, ("ENTERPRISEPREMIUM", 0.05), ("O365_BUSINESS_ESSENTIALS", 0.1)),
            addons=(*_ENTERPRISE_ADDONS, ("Microsoft_Teams_Exploratory_Dept", 0.02)),
            groups=(*_ENTERPRISE_GROUPS, _BASIC_GROUP),
            group_route=0.4, duplicate_share=0.03, departments=_ENTERPRISE_DEPARTMENTS,
            guest_share=0.08, guest_licensed_share=0.5, disabled_share=0.06, unlicensed_share=0.12,
            never_signed_in_share=0.08, stale_share=0.15, synced_share=0.5, spare=(0.0, 0.3),
            kinds=SUBSCRIPTION_KINDS, over_assigned=("SPE_E3",), extra_csv_products=3, messy=True,
        ),
        Scenario(
            "lifecycle", 1, (40, 40),
            base=(("SPE_E3", 0.5), ("SPE_E5", 0.2), ("ENTERPRISEPACK", 0.3)),
            addons=(("VISIOCLIENT", 0.1), ("PROJECTPROFESSIONAL", 0.05), ("FLOW_FREE", 0.2),
                    ("POWER_BI_STANDARD", 0.1)),
            groups=_ENTERPRISE_GROUPS[:2], group_route=0.3, kinds=frozenset({"monthly"}),
            extra_csv_products=0, lifecycle=True,
        ),
    )
}  # fmt: skip


def _split(text: str, sep: str = " ") -> tuple[str, ...]:
    return tuple(text.split(sep))


FIRST_NAMES = _split(
    "Anna Ben Carla David Emma Felix Grace Hugo Ines Jakob Karin Liam Mia Noah Olivia Paul "
    "Quinn Rosa Samuel Tara Uma Victor Wen Xavier Yara Zoe Aisha Bruno Chloé Dmitri Élodie "
    "Fatima Gustav Hana Ivan Jörg Kenji Lucía Mateo Nadia Øyvind Priya Raúl Siobhán Tomás "
    "Åsa Łukasz Zoë Ömer Renée José Mei Arjun Sofia Lars Ingrid Kofi Amara"
)
LAST_NAMES = _split(
    "Smith,Johnson,Müller,Schmidt,Garcia,Martin,Bernard,Dubois,Rossi,Bianchi,Nowak,Kowalski,"
    "Hansen,Johansson,Nielsen,Virtanen,Novák,Horváth,Silva,Santos,Tanaka,Sato,Kim,Lee,Chen,"
    "Wang,Patel,Singh,Okafor,Mensah,O'Brien,Murphy,Fernández,López,Ström,Ødegård,Van Dijk,"
    "De Vries,Brown,Wilson,Taylor,Anderson,Thomas,Moore,Jackson,White,Harris,Clark,Lewis",
    ",",
)
# Accounts every tenant has first: UPNs starting with a digit or an underscore (as real tenants).
SERVICE_ACCOUNTS = (
    ("365admin", "365 Admin"),
    ("_svc.scanner", "Scanner Service"),
    ("2nd.line", "2nd Line"),
)
EXTERNAL_DOMAINS = ("contoso.com", "gmail.com", "outlook.com", "partner.example", "fabrikam.com")
COMPANIES = _split(
    "Contoso,Fabrikam,Northwind,Adatum,Tailspin,Wingtip,Litware,Proseware,Woodgrove,"
    "Fourth Coffee,Alpine Ski House,Lucerne Publishing,Trey Research,Coho Winery,"
    "Wide World Importers,Margie's Travel,Blue Yonder,Humongous Insurance,Relecloud",
    ",",
)
# country:usageLocation:city
_PLACES = _split(
    "United States:US:Seattle,United States:US:New York,Germany:DE:Berlin,"
    "United Kingdom:GB:London,France:FR:Paris,Norway:NO:Oslo,Japan:JP:Tokyo,"
    "Brazil:BR:São Paulo,India:IN:Bengaluru,Netherlands:NL:Amsterdam,Poland:PL:Kraków,"
    "Canada:CA:Toronto",
    ",",
)
COUNTRIES = tuple(tuple(place.split(":")) for place in _PLACES)
JOB_TITLES = (
    "Analyst",
    "Manager",
    "Specialist",
    "Engineer",
    "Coordinator",
    "Director",
    "Assistant",
    "Lead",
)


# RFC 4122 variant (10xx) and version 4 bits, as uuid.UUID(version=4) sets them.
_GUID_CLEAR = ~((0xC000 << 48) | (0xF000 << 64))
_GUID_SET = (0x8000 << 48) | (4 << 76)


def guid(rng: random.Random) -> str:
    """A version-4 GUID drawn from a seeded generator (never uuid4: worlds must be reproducible).

    Equal to str(uuid.UUID(int=rng.getrandbits(128), version=4)), without its cost (300k users).
    """
    n = (rng.getrandbits(128) & _GUID_CLEAR) | _GUID_SET
    h = f"{n:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _holding(tenant: Tenant, sku_id: str) -> list[User]:
    return [u for _, u in tenant.iter_users_from(0) if sku_id in u.assigned_sku_ids()]


def add_problems(tenant: Tenant, rng: random.Random, now: datetime, sku: dict[str, str]) -> None:
    """Make sure a messy tenant shows every problem the product must detect, even when it is small.

    `sku` maps part numbers to skuIds. Adds: E3+E5 overlap, direct+group duplicates, CountViolation
    (Error) and MutuallyExclusiveViolation (Error and ActiveWithError) group assignments. Disabled
    and guest licence holders, subscription states and expiring secrets come from the recipe.
    """
    groups = {g.display_name: g for g in tenant.groups.values()}
    members = [u for _, u in tenant.iter_users_from(0) if u.user_type == "Member"]
    e5_holders = _holding(tenant, sku["SPE_E5"]) or members[:2]
    for user in e5_holders[:2]:  # Microsoft 365 E3 on top of E5: every E3 plan is paid twice
        tenant.assign(user.id, LicenseAssignment(sku["SPE_E3"], None, last_updated=now))
        if sku["SPE_E5"] not in user.assigned_sku_ids():
            tenant.assign(user.id, LicenseAssignment(sku["SPE_E5"], None, last_updated=now))
    e3_group = groups["LIC-M365-E3"]
    e3_members = [u for u in members if e3_group.id in {a.assigned_by_group for a in u.assignments}]
    for user in e3_members[:2] or members[2:4]:  # the same SKU directly and through the group
        if user.id not in e3_group.member_ids:
            e3_group.member_ids.append(user.id)
            tenant.assign(user.id, LicenseAssignment(sku["SPE_E3"], e3_group.id, last_updated=now))
        tenant.assign(user.id, LicenseAssignment(sku["SPE_E3"], None, last_updated=now))
    # SPE_E3 is over-assigned (recipe): further group members cannot get a unit.
    without_e3 = [u for u in members if sku["SPE_E3"] not in u.assigned_sku_ids()]
    for user in rng.sample(without_e3, min(3, len(without_e3))):
        e3_group.member_ids.append(user.id)
        error = LicenseAssignment(sku["SPE_E3"], e3_group.id, (), "Error", "CountViolation", now)
        tenant.assign(user.id, error)
    # Business Basic's Exchange plan conflicts with Exchange Online (Plan 2) of Office/M365 E3.
    basic = groups["LIC-Business-Basic"]
    enterprise = {sku["ENTERPRISEPACK"], sku["SPE_E3"]}
    conflicting = [u for u in members if enterprise & set(u.assigned_sku_ids())]
    conflicting = [
        u for u in conflicting if sku["O365_BUSINESS_ESSENTIALS"] not in u.assigned_sku_ids()
    ]
    for index, user in enumerate(conflicting[-3:]):
        basic.member_ids.append(user.id)
        state = "ActiveWithError" if index == 0 else "Error"
        assignment = LicenseAssignment(
            sku["O365_BUSINESS_ESSENTIALS"], basic.id, (), state, "MutuallyExclusiveViolation", now
        )
        tenant.assign(user.id, assignment)


def add_subscriptions(tenant: Tenant, rng: random.Random, recipe: Scenario, now: datetime) -> None:
    """Subscriptions sized to the holders: spare units, monthly/trial/Warning/Suspended/LockedOut
    subscriptions as the recipe's kinds say, free SKUs' fixed units, fewer units than holders for
    the recipe's over-assigned SKUs."""
    consumed = tenant.consumed_units()
    paid = [s for s, p in tenant.products.items() if p.part_number not in FREE_UNITS]
    held = [s for s in paid if consumed.get(s, 0) >= 2]
    over = {s for s in paid if tenant.products[s].part_number in recipe.over_assigned}
    special: dict[str, str] = {}
    for kind in ("warning", "suspended", "locked_out", "trial"):
        # Distinct held SKUs first; small tenants may need to reuse one.
        fresh = [s for s in paid if s not in special.values() and s not in over]
        pools = ([s for s in fresh if s in held], fresh, [s for s in paid if s not in over])
        candidates = next((pool for pool in pools if pool), [])
        if kind in recipe.kinds and candidates:
            special[kind] = rng.choice(candidates)

    def add(
        sku: str, status: str, units: int, days_ago: int, renew_in: int, trial: bool = False
    ) -> None:
        if units <= 0:
            return
        created = now - timedelta(days=days_ago, seconds=rng.randrange(86400))
        renews = now + timedelta(days=renew_in, seconds=rng.randrange(86400))
        sub = Subscription(guid(rng), guid(rng), sku, status, units, trial, created, renews)
        tenant.subscriptions.append(sub)

    for sku, product in tenant.products.items():
        holders = consumed.get(sku, 0)
        if product.part_number in FREE_UNITS:
            add(sku, "Enabled", FREE_UNITS[product.part_number], 700, 365)
            continue
        if sku in over and holders >= 2:
            total = holders - max(1, holders // 10)
        else:
            total = max(
                1, holders + round(holders * rng.uniform(*recipe.spare)) + rng.randint(0, 2)
            )
        warning = max(1, total // 5) if special.get("warning") == sku else 0
        monthly = (
            total // 10 if "monthly" in recipe.kinds and total >= 10 and rng.random() < 0.5 else 0
        )
        add(
            sku,
            "Enabled",
            total - warning - monthly,
            rng.randrange(30, 1000),
            rng.randrange(20, 330),
        )
        if monthly:
            add(sku, "Enabled", monthly, rng.randrange(30, 300), rng.randrange(1, 30))
        if warning:  # expired, in its grace period: units still usable
            add(sku, "Warning", warning, 400, rng.randrange(1, 30))
        if special.get("trial") == sku:
            add(sku, "Enabled", 25, 10, 20, trial=True)
        if special.get("suspended") == sku:  # cancelled, can still be reactivated
            add(sku, "Suspended", 10, 500, 60)
        if special.get("locked_out") == sku:
            add(sku, "LockedOut", 5, 800, 10)
