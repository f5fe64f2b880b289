"""Requests the emulator answered, by endpoint family: what a benchmark or test really cost."""

from __future__ import annotations

from collections import Counter


def endpoint_key(service: str, path: str) -> str:
    """`graph /v1.0/users`, `entra token`: ids and tenants dropped so the keys stay few."""
    parts = [p for p in path.split("/") if p]
    if service == "entra":
        # /{tenant}/oauth2/v2.0/token, /{tenant}/v2.0/.well-known/openid-configuration, ...
        last = parts[-1] if parts else ""
        return f"entra {'discovery' if last.startswith('openid') or last == 'instance' else last}"
    return f"graph /{'/'.join(parts[:2])}"


class RequestCounter:
    """Counts requests as they arrive (before latency and faults), per endpoint family."""

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()

    def count(self, service: str, path: str) -> None:
        self._counts[endpoint_key(service, path)] += 1

    def snapshot(self) -> dict[str, object]:
        """`{"total", "entra", "graph", "by_endpoint"}` since the start or the last reset."""
        by_service: Counter[str] = Counter()
        for key, value in self._counts.items():
            by_service[key.split(" ", 1)[0]] += value
        return {
            "total": sum(by_service.values()),
            "entra": by_service["entra"],
            "graph": by_service["graph"],
            "by_endpoint": dict(sorted(self._counts.items())),
        }

    def reset(self) -> None:
        self._counts.clear()
