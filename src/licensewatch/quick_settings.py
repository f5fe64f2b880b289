"""The basic settings as commands load them: read directly, else through pydantic-settings."""

from __future__ import annotations

from licensewatch.basic_settings import BasicSettings, read_basic_settings


def load_basic_settings() -> BasicSettings:
    """Reads the environment now; raises the `ValueError` pydantic-settings would raise."""
    simple = read_basic_settings()
    if simple is not None:
        return simple
    from licensewatch.settings import load_settings

    full = load_settings()
    return BasicSettings(full.home, full.database_url, full.log_format, full.log_level)
