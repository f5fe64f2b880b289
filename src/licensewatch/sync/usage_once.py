"""On a sync that collects usage reports, what rests on them is built once: after the usage step.

The publish callback hears `usage_follows` (it then builds no recommendations in full), and the
usage commit's callback (`OnUsage`) builds them. When no usage rows commit after all (a report
failed, the permission is missing), the same callback runs on its own afterwards, so the sync
still ends with them built, as before.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, Engine

from licensewatch.settings import Settings, load_settings
from licensewatch.storage.database import write_transaction
from licensewatch.storage.models import utcnow
from licensewatch.sync.usage import usage_due  # the check `collect_after_sync` makes, made earlier
from licensewatch.sync.work import OnUsage

log = logging.getLogger(__name__)


def usage_follows(
    engine: Engine, tenant_pk: int, roles: Iterable[str], settings: Settings | None
) -> bool:
    """Whether the usage step will collect the reports after this sync (never raises: no)."""
    try:
        settings = settings or load_settings()
        hours = settings.usage_interval_hours
        return settings.usage_reports and usage_due(engine, tenant_pk, roles, utcnow(), hours)
    except Exception:
        log.debug("usage collection check failed", exc_info=True)
        return False


@dataclass
class UsageStep:
    """The usage commit's callback, remembering whether it ran."""

    callback: OnUsage
    ran: bool = False

    def __call__(self, connection: Connection, tenant_pk: int, /) -> object:
        self.ran = True
        return self.callback(connection, tenant_pk)

    def ensure(self, engine: Engine, tenant_pk: int) -> None:
        """Run the callback on its own when no usage commit did (never raises)."""
        if self.ran:
            return
        try:
            with write_transaction(engine) as connection:
                self.callback(connection, tenant_pk)
        except Exception:
            log.exception("tenant %s: the build deferred to the usage step failed", tenant_pk)
