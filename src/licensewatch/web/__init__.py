"""The web app: server-rendered pages, the REST API and exports (FastAPI + Jinja2)."""

from __future__ import annotations

from licensewatch.web.app import create_app

__all__ = ["create_app"]
