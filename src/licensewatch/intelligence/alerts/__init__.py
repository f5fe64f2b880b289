"""Alerts: rules per tenant and product, condition state, webhook and e-mail delivery, a log."""

from __future__ import annotations

from licensewatch.intelligence.alerts.evaluate import Notification, evaluate_alerts

__all__ = ["Notification", "evaluate_alerts"]
