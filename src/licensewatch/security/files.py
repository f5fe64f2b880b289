"""Owner-only files: the home directory 0700, the database and what the tool writes there 0600."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger(__name__)

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
# Files SQLite writes next to a database: write-ahead log, shared memory, rollback journal.
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


class FileModeError(Exception):
    """A private path is open to group or others and cannot be fixed; the message says how."""


def ensure_private_dir(path: Path) -> None:
    """Creates the directory (and parents) owner-only; an existing one is checked and fixed."""
    if not path.exists():
        previous = os.umask(0o077)  # parents too: no window where a new level is world-readable
        try:
            path.mkdir(parents=True, exist_ok=True)
        finally:
            os.umask(previous)
        path.chmod(PRIVATE_DIR_MODE)  # explicit: a strict umask must not lock the owner out
        return
    fix_mode(path, PRIVATE_DIR_MODE)


def create_private_file(path: Path) -> None:
    """Creates an empty owner-only file if absent, so that a later writer opens it 0600."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE_MODE)
    try:
        os.fchmod(fd, PRIVATE_FILE_MODE)
    finally:
        os.close(fd)


def fix_mode(path: Path, mode: int) -> bool:
    """Removes group/other access from a path; True when it had to (logged as a warning)."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return False
    current = stat.S_IMODE(info.st_mode)
    if stat.S_ISLNK(info.st_mode) or not current & 0o077:
        return False  # a symlink's target is checked by whoever created it
    if info.st_mode & stat.S_ISVTX or info.st_uid != os.geteuid():  # /tmp, someone else's
        raise FileModeError(
            f"{path} is readable by group or others (mode {current:04o}) and is shared or not "
            f"ours: point LICENSEWATCH_HOME (or the database URL) at a directory of your own"
        )
    try:
        path.chmod(mode)
    except OSError as error:
        raise FileModeError(
            f"{path} is readable by group or others (mode {current:04o}) and could not be fixed "
            f"({error.strerror}): run `chmod {mode:o} {path}` as its owner"
        ) from None
    log.warning(
        "%s was readable by group or others (mode %04o); changed it to %04o", path, current, mode
    )
    return True


def private_companions(database: Path) -> Iterable[Path]:
    """The database file and every file SQLite keeps beside it."""
    yield database
    for suffix in SQLITE_COMPANIONS:
        yield database.with_name(database.name + suffix)


def secure_sqlite_files(database: Path, home: Path | None = None) -> None:
    """Before SQLite opens a database: its directory private (if new, or the home), files 0600.

    SQLite creates `-wal`, `-shm` and `-journal` with the mode of the database file, so creating
    the database 0600 first covers them; existing files from older versions are fixed here. A
    directory of the user's choosing that already exists (not the home) is left as it is.
    """
    directory = database.parent
    if not directory.exists() or (home is not None and _same(directory, home)):
        ensure_private_dir(directory)
    if not database.exists():
        create_private_file(database)
    for path in private_companions(database):
        fix_mode(path, PRIVATE_FILE_MODE)


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False
