"""The settings every command needs (home, database URL, logging), read without pydantic."""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

PREFIX = "licensewatch_"
# The fields read here; any other `LICENSEWATCH_*` variable is validated by pydantic-settings.
FIELDS = ("home", "database_url", "log_format", "log_level")
# Read by others, but valid whatever their value: they need not send anyone to pydantic.
ANY_VALUE = ("secret_key", "public_url")
LOG_LEVELS = frozenset({"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"})


class LogFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


def default_home() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("licensewatch", appauthor=False))


@dataclass(frozen=True, slots=True)
class BasicSettings:
    """Where the data lives and how to log: equal to the same fields of `Settings()`."""

    home: Path
    database_url: str
    log_format: LogFormat
    log_level: str


def read_basic_settings() -> BasicSettings | None:
    """The fields from the environment, or None when only pydantic-settings can say
    (`quick_settings.load_basic_settings` then asks it).

    pydantic-settings matches variable names case-insensitively; a variable this reader does
    not know, the same field set twice in different cases, or a value it would reject sends
    the caller to `Settings()`, which then answers, or raises, exactly as before.
    """
    found: dict[str, str] = {}
    for key, value in os.environ.items():
        name = key.lower()
        if not name.startswith(PREFIX):
            continue
        field = name[len(PREFIX) :]
        if field in found or field not in (*FIELDS, *ANY_VALUE):
            return None
        found[field] = value
    level = found.get("log_level", "INFO").strip().upper()
    text_format = found.get("log_format", LogFormat.TEXT.value)
    if level not in LOG_LEVELS or text_format not in {f.value for f in LogFormat}:
        return None
    if "home" in found and not found["home"]:
        return None  # pydantic's reading of an empty path is its own
    home = Path(found["home"]).expanduser() if "home" in found else default_home()
    url = found.get("database_url", "")
    if not url.strip():
        url = f"sqlite:///{home / 'licensewatch.db'}"
    return BasicSettings(home, url, LogFormat(text_format), level)
