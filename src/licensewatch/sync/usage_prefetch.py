"""The day's usage reports downloaded while the users are read, spooled to unnamed temporary files.

A sync that collects usage reports used to ask for them only after the users were published: the
three downloads (Graph renders the files on request) then ran while nothing else did. Here a
background thread reads the report settings and downloads the three files as soon as the token is
known, into temporary files that have no name on disk (removed by the kernel even when the process
is killed); the parse, staging and merge still run after the publish, in the same transactions
as a collection that downloads them itself. What the thread met (an error, a missing permission)
is raised at the same step of the collection as it would have been live.
"""

from __future__ import annotations

import logging
import tempfile
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from functools import partial
from typing import IO

from licensewatch.domain.usage import Period, parse_period
from licensewatch.graph.client import GraphClient
from licensewatch.graph.errors import GraphError
from licensewatch.graph.reports import DownloadInterrupted, Report, names_concealed, open_report
from licensewatch.settings import Settings, load_settings
from licensewatch.sync.usage_staging import DOWNLOAD_ATTEMPTS

log = logging.getLogger(__name__)

REPORTS = (Report.ACTIVE_USERS, Report.APP_USERS, Report.MAILBOXES)
# Bytes of one sync's spooled reports (≈ 60 MB at 100k users): past it, the rest is downloaded
# after the publish as before, so a huge tenant never fills the temporary directory.
SPOOL_LIMIT = 2 << 30
CHUNK = 256 * 1024  # bytes handed to the parser at a time
JOIN_SECONDS = 10.0  # a sync that failed waits this long for the thread before it goes on

Setting = tuple[bool | None, bool]  # displayConcealedNames (None: unreadable), readable


def concealed_setting(client: GraphClient) -> Setting:
    """(displayConcealedNames, readable): None when ReportSettings.Read.All is not granted."""
    try:
        return names_concealed(client), True
    except GraphError as exc:
        log.info("report settings unreadable (%s): concealment is inferred from the rows", exc)
        return None, False


class _Stopped(Exception):
    """The sync ended (or failed) while the prefetch was still downloading."""


class _TooLarge(Exception):
    """The spool would pass `SPOOL_LIMIT`: what is left is downloaded after the publish."""


class UsagePrefetch:
    """The report settings and the three reports, read by a background thread into spools."""

    def __init__(self, client: GraphClient, period: Period, limit: int | None = None) -> None:
        self.client, self.period = client, period
        self.limit = SPOOL_LIMIT if limit is None else limit
        self.spools: dict[Report, IO[bytes]] = {}  # complete files only
        self.setting: Setting | None = None
        self.error: BaseException | None = None
        self.failed_at: Report | None = None  # None with an error: the settings' read
        self.spooled = 0
        self._open: list[IO[bytes]] = []
        self._files_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="usage-prefetch", daemon=True)

    def start(self) -> UsagePrefetch:
        self._thread.start()
        return self

    # ---- the collection's side
    def concealed_setting(self, client: GraphClient) -> Setting:
        """What the thread read of the report settings (its error, if that read raised)."""
        self._thread.join()
        if self.setting is None:
            if self.error is not None:
                raise self.error
            return concealed_setting(client)  # stopped before it: read now
        return self.setting

    def open(
        self, client: GraphClient, report: Report, period: str
    ) -> AbstractContextManager[Iterator[bytes]]:
        """`open_report`, from the spool when the thread downloaded the file."""
        self._thread.join()
        spool = self.spools.get(report)
        if spool is not None and period == self.period.value:
            return self._read(spool)
        if self.error is not None and self.failed_at == report:
            raise self.error  # what the download met, at the report it met it
        return open_report(client, report, period)  # not spooled (over the limit): live

    @contextmanager
    def _read(self, spool: IO[bytes]) -> Iterator[Iterator[bytes]]:
        spool.seek(0)
        yield iter(partial(spool.read, CHUNK), b"")

    def close(self) -> None:
        """Stop the thread and remove the spools (never raises)."""
        self._stop.set()
        self._thread.join(JOIN_SECONDS)
        if self._thread.is_alive():  # blocked on the network: it removes them when it ends
            log.debug("the usage reports' download is still stopping")
            return
        self._close_files()

    # ---- the thread's side
    def _run(self) -> None:
        try:
            self.setting = concealed_setting(self.client)
            for report in REPORTS:
                self.failed_at = report
                self.spools[report] = self._download(report)
            self.failed_at = None
        except (_Stopped, _TooLarge) as exc:
            self.failed_at = None
            log.debug("usage reports' prefetch ended early: %s", type(exc).__name__)
        except BaseException as exc:  # the collection raises it where it would have met it
            self.error = exc
        finally:
            if self._stop.is_set():
                self._close_files()

    def _download(self, report: Report) -> IO[bytes]:
        spool = self._new_file()
        try:
            self._fill(spool, report)
        except BaseException:  # no partial file waits for the sync's end
            self._close_files(spool)
            raise
        self.spooled += spool.tell()
        spool.flush()
        return spool

    def _fill(self, spool: IO[bytes], report: Report) -> None:
        for tries in range(1, DOWNLOAD_ATTEMPTS + 1):
            try:
                with open_report(self.client, report, self.period.value) as chunks:
                    for chunk in chunks:
                        if self._stop.is_set():
                            raise _Stopped
                        if self.spooled + spool.tell() + len(chunk) > self.limit:
                            raise _TooLarge
                        spool.write(chunk)
                return
            except DownloadInterrupted as exc:
                if tries == DOWNLOAD_ATTEMPTS:
                    raise
                # A broken file cannot be resumed: the report is asked for again, from scratch.
                log.warning(
                    "%s; reading it again (attempt %d of %d)", exc, tries + 1, DOWNLOAD_ATTEMPTS
                )
                spool.seek(0)
                spool.truncate()

    def _new_file(self) -> IO[bytes]:
        with self._files_lock:
            if self._stop.is_set():
                raise _Stopped
            # No name on disk (O_TMPFILE, or unlinked at once): nothing is left after a kill.
            spool = tempfile.TemporaryFile(prefix="licensewatch-usage-")  # noqa: SIM115 (kept open)
            self._open.append(spool)
            return spool

    def _close_files(self, only: IO[bytes] | None = None) -> None:
        with self._files_lock:
            for spool in [only] if only is not None else self._open:
                spool.close()
            self._open = [] if only is None else [f for f in self._open if f is not only]
            if only is None:
                self.spools.clear()


def start_prefetch(client: GraphClient, settings: Settings | None) -> UsagePrefetch | None:
    """The reports' download started in the background (never raises: None, read them later)."""
    try:
        period = parse_period((settings or load_settings()).usage_period)
        return UsagePrefetch(client, period).start()
    except Exception:
        log.debug("could not start the usage reports' download", exc_info=True)
        return None
