"""Knobs of an emulator instance: latency, throttling and fault injection."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class EmulatorOptions:
    latency_ms: int = 0
    throttle: Literal["off", "realistic"] = "off"
    # Fault specification as given on the command line (see docs/emulator.md); "" = no faults.
    faults: str = ""
    seed: int = 1
    # Whether /users/{id}/licenseDetails answers app-only tokens (Microsoft's docs disagree).
    license_details_app_only: bool = True
    # Origin written into nextLinks/deltaLinks instead of the one the request reached, e.g.
    # "https://graph.microsoft.com": a reverse proxy that passes Graph's links through unchanged.
    link_host: str = ""
