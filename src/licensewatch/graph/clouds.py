"""Microsoft clouds: where Entra ID issues tokens and where Graph answers."""

# Endpoints: learn.microsoft.com/graph/deployments

from __future__ import annotations

from enum import StrEnum
from urllib.parse import urlsplit

_HOSTS: dict[str, tuple[str, str]] = {
    "global": ("https://login.microsoftonline.com", "https://graph.microsoft.com"),
    "usgov": ("https://login.microsoftonline.us", "https://graph.microsoft.us"),
    "usgov-dod": ("https://login.microsoftonline.us", "https://dod-graph.microsoft.us"),
    "china": (
        "https://login.partner.microsoftonline.cn",
        "https://microsoftgraph.chinacloudapi.cn",
    ),
}

# Authority hosts MSAL knows without instance discovery (MSAL 1.39 WELL_KNOWN_AUTHORITY_HOSTS).
PUBLIC_AUTHORITY_HOSTS = frozenset(
    {
        "login.microsoftonline.com",
        "login.microsoft.com",
        "login.windows.net",
        "sts.windows.net",
        "login.chinacloudapi.cn",
        "login.partner.microsoftonline.cn",
        "login.microsoftonline.de",
        "login-us.microsoftonline.com",
        "login.microsoftonline.us",
        "login.usgovcloudapi.net",
    }
)


class Cloud(StrEnum):
    """A Microsoft cloud: GCC (moderate) is GLOBAL, GCC High is USGOV, DoD is USGOV_DOD."""

    GLOBAL = "global"
    USGOV = "usgov"
    USGOV_DOD = "usgov-dod"
    CHINA = "china"

    @property
    def authority_host(self) -> str:
        """The Entra ID login host, e.g. https://login.microsoftonline.com (no trailing slash)."""
        return _HOSTS[self.value][0]

    @property
    def graph_endpoint(self) -> str:
        """The Graph root, e.g. https://graph.microsoft.com (no version, no trailing slash)."""
        return _HOSTS[self.value][1]


def is_public_authority_host(url: str) -> bool:
    """True for an Entra host MSAL validates by itself (no instance discovery call needed)."""
    return (urlsplit(url).hostname or "").lower() in PUBLIC_AUTHORITY_HOSTS
