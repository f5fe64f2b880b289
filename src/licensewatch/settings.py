"""Runtime settings from `LICENSEWATCH_*` environment variables (pydantic-settings)."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from licensewatch.basic_settings import LogFormat as LogFormat
from licensewatch.basic_settings import default_home as _default_home


class Settings(BaseSettings):
    """Everything configurable; every field maps to `LICENSEWATCH_<FIELD>`."""

    model_config = SettingsConfigDict(env_prefix="LICENSEWATCH_", extra="ignore")

    home: Path = Field(default_factory=_default_home)
    database_url: str = ""
    secret_key: SecretStr | None = None
    log_format: LogFormat = LogFormat.TEXT
    log_level: str = "INFO"
    # The address people type to reach the web app (behind a reverse proxy): SSO's redirect URI.
    public_url: str | None = None
    # Addresses or networks (comma-separated) of reverse proxies whose X-Forwarded-For and
    # X-Forwarded-Proto are believed. Empty: none, the TCP peer is the client.
    trusted_proxies: str = ""
    # Sign-in throttle: failed (or running) password checks allowed per window.
    sign_in_window_minutes: int = Field(default=15, ge=1, le=24 * 60)
    sign_in_limit_account_source: int = Field(default=5, ge=1)
    sign_in_limit_account: int = Field(default=10, ge=1)
    sign_in_limit_source: int = Field(default=20, ge=1)
    sign_in_limit_total: int = Field(default=100, ge=1)
    # Whether anonymous /healthz lists tenant names and sync states (an MSP's customer list).
    healthz_public_tenants: bool = False
    # Graph retry policy (graph/retry.py; docs/configuration.md): seconds unless said otherwise.
    retry_max_attempts: int = Field(default=6, ge=1)
    retry_max_request_wait: float = Field(default=600.0, ge=0)
    retry_min_delay: float = Field(default=1.0, ge=0)
    retry_base_delay: float = Field(default=0.5, ge=0)
    retry_max_delay: float = Field(default=30.0, ge=0)
    retry_max_retry_after: float = Field(default=300.0, ge=0)
    retry_sync_budget: float = Field(default=1800.0, ge=0)
    retry_pause: float = Field(default=60.0, ge=0)
    # Follow nextLinks/deltaLinks naming the cloud's Graph host through a tenant's custom
    # Graph endpoint (a reverse proxy that does not rewrite them). Off: such links are refused.
    graph_link_rewrite: bool = False
    # A sharded full sync (`sync --shards N`) reads, builds and stores its ranges in this many
    # processes (0: one per core, at most one per shard; 1: threads of one process).
    shard_processes: int = Field(default=1, ge=0, le=64)
    # Usage reports (Reports.Read.All): collected with a sync at most once per interval and tenant.
    usage_reports: bool = True
    usage_period: str = "D90"
    usage_interval_hours: float = Field(default=24.0, ge=1)
    # Opt-ins that weaken a default: documented in docs/configuration.md and docs/security.md.
    allow_private_webhooks: bool = False  # webhook targets on loopback/private/link-local nets
    allow_plaintext_smtp: bool = False  # `--smtp-security none` to a host that is not loopback

    @field_validator("home", mode="after")
    @classmethod
    def _expand_home(cls, value: Path) -> Path:
        return value.expanduser()

    @field_validator("log_level", mode="after")
    @classmethod
    def _upper_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("log_level must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return level

    @field_validator("usage_period", mode="after")
    @classmethod
    def _check_period(cls, value: str) -> str:
        period = value.strip().upper()
        if period not in {"D30", "D90", "D180"}:
            raise ValueError("usage_period must be D30, D90 or D180")
        return period

    @field_validator("trusted_proxies", mode="after")
    @classmethod
    def _check_proxies(cls, value: str) -> str:
        for item in (part.strip() for part in value.split(",")):
            if item:
                try:
                    ipaddress.ip_network(item, strict=False)
                except ValueError:
                    raise ValueError(
                        f"trusted_proxies: {item!r} is not an IP address or network"
                    ) from None
        return value

    @property
    def trusted_proxy_list(self) -> list[str]:
        """The trusted proxies as uvicorn's proxy-header middleware takes them."""
        return [part.strip() for part in self.trusted_proxies.split(",") if part.strip()]

    @model_validator(mode="after")
    def _default_database(self) -> Settings:
        # The default follows `home`, so it can only be computed once `home` is known.
        if not self.database_url.strip():
            self.database_url = f"sqlite:///{self.home / 'licensewatch.db'}"
        return self

    @property
    def key_file(self) -> Path:
        return self.home / "secret.key"

    def secret_keys(self) -> list[bytes]:
        """The keys from `LICENSEWATCH_SECRET_KEY`, primary first (empty when unset)."""
        if self.secret_key is None:
            return []
        raw = self.secret_key.get_secret_value()
        return [part.strip().encode() for part in raw.split(",") if part.strip()]


def load_settings() -> Settings:
    """Reads the environment now (not at import time, so tests can change it)."""
    return Settings()
