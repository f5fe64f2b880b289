"""W5's usage data: a completed usage collection and one activity row per user, bulk-loaded.

What `sync/usage.py` stores after reading Microsoft's three per-user reports (D90): most users
active in several workloads and on a few platforms, one in six idle for over 90 days (candidates
to remove), one in ten using only the web and mail (candidates to downgrade), so the Savings,
Recommendations and renewal-plan endpoints have real work to page through.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select

from licensewatch.storage.models import Sku, User
from licensewatch.storage.models.intelligence import PriceTerm, ProductPrice
from licensewatch.storage.models.usage import UsageCollection, UserUsage

BATCH = 10_000
# Monthly list prices in USD (the order of magnitude Microsoft publishes); free products cost 0.
_PRICES = {
    "SPE_E5": "57.00",
    "SPE_E3": "36.00",
    "ENTERPRISEPREMIUM": "38.00",
    "ENTERPRISEPACK": "23.00",
    "SPB": "22.00",
    "O365_BUSINESS_PREMIUM": "12.50",
    "O365_BUSINESS_ESSENTIALS": "6.00",
    "STANDARDPACK": "10.00",
    "DESKLESSPACK": "8.00",
    "EMS": "10.60",
    "VISIOCLIENT": "15.00",
    "POWER_BI_PRO": "14.00",
    "PROJECTPROFESSIONAL": "30.00",
    "POWER_BI_STANDARD": "0.00",
    "FLOW_FREE": "0.00",
}
_WORKLOADS = ("exchange", "onedrive", "sharepoint", "skype", "yammer", "teams")


def _activity(rng: random.Random, upn: str, refresh: date) -> dict[str, Any]:
    roll = rng.random()
    last: dict[str, date | None]
    if roll < 1 / 6:  # idle: nothing in the period
        last = {w: None for w in _WORKLOADS}
        platforms = (False, False, False, False)
    elif roll < 1 / 6 + 0.1:  # mail and the web only
        recent = refresh - timedelta(days=rng.randrange(30))
        last = {w: recent if w == "exchange" else None for w in _WORKLOADS}
        platforms = (False, False, False, True)
    else:
        last = {w: refresh - timedelta(days=rng.randrange(60)) for w in _WORKLOADS}
        platforms = (True, rng.random() < 0.1, rng.random() < 0.6, True)
    seen = any(platforms)
    return {
        "user_principal_name": upn,
        "display_name": None,
        "is_deleted": False,
        "report_refresh_date": refresh,
        **{f"{w}_last": when for w, when in last.items()},
        "apps_seen": seen,
        "apps_last": max((d for d in last.values() if d is not None), default=None),
        "windows": platforms[0],
        "mac": platforms[1],
        "mobile": platforms[2],
        "web": platforms[3],
        "apps_used": "Outlook,Word,Excel,Teams" if platforms[0] else None,
        "mailbox_seen": True,
        "mailbox_last": last["exchange"],
        "storage_used_bytes": rng.randrange(10**9),
        "prohibit_send_receive_quota_bytes": 100 * 2**30,
        "item_count": rng.randrange(50_000),
    }


def add_prices(db: Connection, tenant: int) -> None:
    """A price for every product the tenant holds, so costs and savings carry money."""
    parts = db.execute(select(Sku.sku_id, Sku.sku_part_number).where(Sku.tenant_id == tenant))
    rows = [
        {
            "sku_id": sku_id,
            "part_number": part,
            "amount": _PRICES.get(part or "", "10.00"),
            "currency": "USD",
            "term": PriceTerm.MONTHLY,
        }
        for sku_id, part in parts
    ]
    db.execute(insert(ProductPrice), rows)


def add_usage(db: Connection, tenant: int, seed: int = 1) -> int:
    """Store a successful D90 collection for every user of the tenant; the rows written."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    refresh = now.date() - timedelta(days=2)  # Microsoft's reports lag a day or two
    upns = db.execute(select(User.user_principal_name).where(User.tenant_id == tenant))
    written, batch = 0, []
    for (upn,) in upns:
        batch.append({"tenant_id": tenant, **_activity(rng, (upn or "").lower(), refresh)})
        if len(batch) == BATCH:
            db.execute(insert(UserUsage), batch)
            written, batch = written + len(batch), []
    if batch:
        db.execute(insert(UserUsage), batch)
        written += len(batch)
    db.execute(
        insert(UsageCollection).values(
            tenant_id=tenant,
            period="D90",
            attempted_at=now,
            collected_at=now,
            status="ok",
            concealed=False,
            settings_readable=True,
            active_refresh_date=refresh,
            apps_refresh_date=refresh,
            mailbox_refresh_date=refresh,
            counts={"users": written},
        )
    )
    return written
