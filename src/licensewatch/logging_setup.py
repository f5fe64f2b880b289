"""Process logging for the daemon and workers: text or JSON lines, secrets always redacted."""

from __future__ import annotations

import json
import logging
import sys
from typing import TYPE_CHECKING, Any, TextIO

from licensewatch.basic_settings import BasicSettings, LogFormat
from licensewatch.security.redaction import install, redact

if TYPE_CHECKING:
    from licensewatch.settings import Settings

# Attributes every LogRecord has; anything else was passed with `extra=` and goes into JSON.
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}
_QUIET = ("httpx", "httpcore", "alembic", "msal", "urllib3", "asyncio")
_MARK = "_licensewatch_handler"


class TextFormatter(logging.Formatter):
    """`time level logger: message`; the final line is redacted again (extra safety net)."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, exception and `extra` fields."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            data["exception"] = record.exc_text
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                data[key] = value if isinstance(value, (int, float, bool)) else str(value)
        return redact(json.dumps(data, ensure_ascii=False, default=str))


def configure_logging(
    settings: Settings | BasicSettings, stream: TextIO | None = None, *, level: str | None = None
) -> logging.Handler:
    """Replace our root handler with one writing to `stream` (stderr) in the configured format.

    The redaction filter sits on the handler, so records of every logger pass through it.
    """
    handler = logging.StreamHandler(stream or sys.stderr)
    install(handler)
    json_lines = settings.log_format == LogFormat.JSON
    handler.setFormatter(JsonFormatter() if json_lines else TextFormatter())
    setattr(handler, _MARK, True)
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, _MARK, False) or getattr(existing, "_licensewatch", False):
            root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level or settings.log_level)
    quiet = logging.DEBUG if root.level <= logging.DEBUG else logging.WARNING
    for name in _QUIET:  # a line per request or per plugin: shown only with DEBUG
        logging.getLogger(name).setLevel(quiet)
    return handler
