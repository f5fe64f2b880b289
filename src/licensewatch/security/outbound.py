"""Outbound targets an admin configures: which addresses a webhook may reach (no SSRF)."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]

NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052: the last 32 bits are an IPv4 address
ALLOW_PRIVATE_HINT = (
    "to deliver to a receiver on your own network, set LICENSEWATCH_ALLOW_PRIVATE_WEBHOOKS=true"
)


class TargetRefused(ValueError):
    """A target resolves to an address outside the public internet; the message says the fix."""


def literal_address(host: str) -> IPAddress | None:
    """The address a host literal means, including the legacy forms the C resolver accepts.

    `2130706433`, `0x7f.1` and `0177.0.0.1` are all 127.0.0.1 to `inet_aton` (and so to
    `getaddrinfo` and every HTTP client): they must be judged as such.
    """
    text = host.strip("[]").split("%", 1)[0]  # IPv6 literal brackets, zone id
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(text))
    except (OSError, ValueError):
        return None


def _embedded_ipv4(address: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 one stands for (mapped, NAT64, 6to4), else itself."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address in NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if address.sixtofour is not None:
            return address.sixtofour
    return address


def refusal(address: IPAddress) -> str | None:
    """Why an address is not a public internet address (None: it is)."""
    address = _embedded_ipv4(address)
    checks = (
        (address.is_unspecified, "unspecified"),
        (address.is_loopback, "loopback"),
        (address.is_link_local, "link-local (cloud metadata lives here)"),
        (address.is_multicast, "multicast"),
        (address.is_private, "private"),
        (not address.is_global, "reserved (not globally routable)"),
    )
    return next((reason for failed, reason in checks if failed), None)


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (what a connection could end up using)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def checked_addresses(
    host: str, port: int, *, allow_private: bool, resolver: Resolver | None = None
) -> list[str]:
    """The addresses to connect to; refuses when ANY of them is not public (DNS may mix them)."""
    literal = literal_address(host)
    if literal is not None:
        addresses = [str(literal)]
    else:
        try:
            addresses = (resolver or resolve)(host, port)  # looked up now: tests swap DNS
        except OSError as error:
            raise TargetRefused(f"cannot resolve {host}: {error}") from None
    if allow_private:
        return addresses
    for text in addresses:
        reason = refusal(ipaddress.ip_address(text.split("%", 1)[0]))
        if reason is not None:
            shown = host if text == host else f"{host} ({text})"
            raise TargetRefused(
                f"{shown} is a {reason} address, refused as a webhook target; " + ALLOW_PRIVATE_HINT
            )
    return addresses


def loopback_addresses(host: str, resolver: Resolver | None = None) -> list[str]:
    """The addresses of `host` if every one is loopback (traffic never leaves the host), else []."""
    literal = literal_address(host)
    try:
        addresses = [str(literal)] if literal is not None else (resolver or resolve)(host, 0)
    except OSError:
        return []
    loopback = all(
        _embedded_ipv4(ipaddress.ip_address(a.split("%", 1)[0])).is_loopback for a in addresses
    )
    return addresses if loopback else []
