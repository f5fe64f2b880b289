"""The Graph v1.0 subset the emulator serves: users, SKUs, subscriptions, groups, delta, $batch."""

from __future__ import annotations

from licensewatch.emulator.graph.routes import graph_routes

__all__ = ["graph_routes"]
