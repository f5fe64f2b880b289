"""The demo's data (as `make demo` makes it), the web app, Chromium: PNGs of the main pages."""

from __future__ import annotations

import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import uvicorn
from playwright.sync_api import Page, sync_playwright

from licensewatch.cli.demo import DEMO_TENANT, demo_world, prepare
from licensewatch.emulator.options import EmulatorOptions
from licensewatch.emulator.server import start_in_thread
from licensewatch.security.crypto import load_keyring
from licensewatch.services.accounts import create_account
from licensewatch.services.tenants import TenantService
from licensewatch.settings import Settings
from licensewatch.storage.database import make_engine
from licensewatch.storage.models.accounts import Role
from licensewatch.web import create_app

OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
PASSWORD = "screenshots-password-1"  # noqa: S105 - a throw-away local account


def _serve(app: object) -> tuple[str, uvicorn.Server]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))  # type: ignore[arg-type]
    threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
    while not server.started:
        time.sleep(0.02)
    return f"http://127.0.0.1:{sock.getsockname()[1]}", server


def _shoot(page: Page, base: str, path: str, name: str, *, full_page: bool = True) -> None:
    page.goto(base + path)
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=full_page)
    print(f"docs/screenshots/{name}.png  ←  {path}")


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="lw-screens-"))
    # The demo's own data (`make demo`, fewer users): two tenants, 90 days of history, prices.
    world = demo_world(300, work / "emulator")
    settings = Settings(home=work / "home", database_url=f"sqlite:///{work / 'lw.db'}")
    engine = make_engine(settings.database_url)
    create_account(engine, "admin", Role.ADMIN, PASSWORD)
    with start_in_thread(world, EmulatorOptions(), cert_dir=work / "emulator") as emulator:
        service = TenantService(engine, load_keyring(settings))
        prepare(service, world, emulator.info)
        base, server = _serve(create_app(settings, engine=engine))
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            _shoot(page, base, "/login", "login")
            page.fill("input[name=username]", "admin")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(base + "/")
            _shoot(page, base, f"/?tenant={DEMO_TENANT}", "dashboard")
            product = page.locator("tr.row-over a").first.get_attribute("href")
            _shoot(page, base, product or "/", "product")
            _shoot(page, base, "/findings", "findings")
            _shoot(page, base, f"/costs?tenant={DEMO_TENANT}", "costs")
            _shoot(page, base, f"/changes?tenant={DEMO_TENANT}", "changes", full_page=False)
            _shoot(page, base, "/users?licensed=yes", "users")
            user = page.locator("#users tbody tr a").first.get_attribute("href")
            _shoot(page, base, user or "/users", "user")
            _shoot(page, base, "/renewals", "renewals")
            _shoot(page, base, "/sync", "sync")
            _shoot(page, base, "/tenants/new", "onboarding")
            _shoot(page, base, f"/tenants/{DEMO_TENANT}", "tenant")
            _shoot(page, base, "/api/docs", "api-docs")
            browser.close()
        server.should_exit = True
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
