"""Deterministic world building: tenants, apps, credentials, people, licences, subscriptions."""

from __future__ import annotations

import bisect
import gc
import itertools
import math
import random
import string
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from licensewatch.emulator import assignment_states, certs, lifecycle, scenarios, usage_seed
from licensewatch.emulator.apps import App, ClientCertificate, ClientSecret
from licensewatch.emulator.products import load_catalog_csv, merged_catalog
from licensewatch.emulator.scenarios import SCENARIOS, Scenario, guid
from licensewatch.emulator.state import (
    Group,
    LicenseAssignment,
    Product,
    SignInActivity,
    Tenant,
    User,
    World,
    utcnow,
)
from licensewatch.emulator.upn import upn_local

APP_ROLES = frozenset({"Directory.Read.All", "User.Read.All"})
_SHARED_CERT_ABOVE = 5  # RSA key generation is slow: bigger worlds share one app certificate
_T = TypeVar("_T")
_SECRET_ALPHABET = string.ascii_letters + string.digits + "_-.~"


def secret_value(rng: random.Random) -> str:
    """40 characters shaped like an Entra client secret: `abC8Q~` then 34 more."""
    head = "".join(rng.choices(string.ascii_letters, k=3)) + rng.choice(string.digits) + "Q~"
    return head + "".join(rng.choices(_SECRET_ALPHABET, k=34))


def build_world(
    *,
    tenants: int | None = None,
    users: int | None = None,
    seed: int = 1,
    scenario: str = "small-office",
    cert_dir: Path,
    catalog: Path | None = None,
    token_lifetime_seconds: int = 3599,
) -> World:
    """A world of `tenants` tenants with `users` users each (None: the scenario's defaults).

    Ids, names, secrets and licences depend only on the arguments (and the catalogue file); dates
    are relative to now. App certificates live in `cert_dir/<tenant id>/app-{cert,key}.pem` and are
    reused when present, so a restarted emulator keeps its credentials.
    """
    recipe = SCENARIOS.get(scenario)
    if recipe is None:
        raise ValueError(f"unknown scenario {scenario!r}; choose from {', '.join(SCENARIOS)}")
    count = recipe.default_tenants if tenants is None else tenants
    if count < 1 or (users is not None and users < 0):
        raise ValueError("tenants must be at least 1 and users not negative")
    if recipe.messy and users is not None and users < 15:
        raise ValueError("the messy scenario needs at least 15 users per tenant")
    extra = load_catalog_csv(catalog) if catalog is not None else []
    products = merged_catalog(extra)
    builtin = {p.sku_id for p in merged_catalog([]).values()}
    csv_only = [p for p in extra if p.sku_id not in builtin and p.service_plans]
    world = World(token_lifetime_seconds=token_lifetime_seconds)
    now = utcnow()
    shared = _shared_pair(cert_dir, now) if count > _SHARED_CERT_ABOVE else None
    collecting = gc.isenabled()
    gc.disable()  # millions of new objects: cyclic GC passes would cost a third of the build time
    try:
        for index in range(count):
            rng = random.Random(f"licensewatch:{scenario}:{seed}:{index}")
            size = users if users is not None else rng.randint(*recipe.users_range)
            picked = rng.sample(csv_only, min(recipe.extra_csv_products, len(csv_only)))
            tenant = _tenant(index, recipe, rng, now, products, picked)
            app = _app(rng, now, recipe.messy)
            app.certificates.append(_certificate(cert_dir, tenant.tenant_id, now, shared))
            tenant.apps[app.client_id] = app
            _people(tenant, rng, recipe, size, now)
            if recipe.messy:
                sku = {p.part_number: p.sku_id for p in tenant.products.values()}
                scenarios.add_problems(tenant, rng, now, sku)
                assignment_states.add_state_problems(tenant, now)
            scenarios.add_subscriptions(tenant, rng, recipe, now)
            if recipe.lifecycle:
                lifecycle.add_lifecycle(tenant, rng, now, products)
            usage_seed.add_usage(tenant, scenario, index, now, products)
            world.add_tenant(tenant)
    finally:
        if collecting:
            gc.enable()
    return world


def _tenant(
    index: int, recipe: Scenario, rng: random.Random, now: datetime, catalog: dict[str, Product],
    picked: list[Product],
) -> Tenant:  # fmt: skip
    company = scenarios.COMPANIES[index % len(scenarios.COMPANIES)]
    round_ = index // len(scenarios.COMPANIES)
    slug = "".join(c for c in company.lower() if c.isalnum()) + (str(round_ + 1) if round_ else "")
    created = now - timedelta(days=2000)
    tenant = Tenant(guid(rng), f"{slug}.onmicrosoft.com", f"{company} Ltd", created=created)
    tenant.has_premium = not (recipe.premium_every and index % recipe.premium_every == 1)
    for part, _ in (*recipe.base, *recipe.addons):
        tenant.products[catalog[part].sku_id] = catalog[part]
    for product in picked:  # a few products only the --catalog CSV knows
        tenant.products[product.sku_id] = product
    for spec in recipe.groups:
        product = catalog[spec.part_number]
        disabled = tuple(p.plan_id for p in product.service_plans if p.name in spec.disabled_plans)
        group = Group(guid(rng), spec.name, spec.name.lower(), [(product.sku_id, disabled)])
        group.created = now - timedelta(days=900)
        tenant.groups[group.id] = group
    staff = Group(guid(rng), "All Staff", "allstaff", created=now - timedelta(days=1500))
    tenant.groups[staff.id] = staff  # groups without licences exist too
    return tenant


def _app(rng: random.Random, now: datetime, messy: bool) -> App:
    app = App(guid(rng), "licensewatch collector", roles=set(APP_ROLES))
    valid_for = timedelta(days=9) if messy else timedelta(days=365)  # messy: expiring soon
    app.secrets.append(ClientSecret(guid(rng), secret_value(rng), "collector", now + valid_for))
    app.secrets.append(ClientSecret(guid(rng), secret_value(rng), "old", now - timedelta(days=40)))
    return app


def _read_pair(cert_path: Path, key_path: Path, now: datetime) -> certs.KeyPair | None:
    try:
        pair = certs.KeyPair(cert_path.read_bytes(), key_path.read_bytes())
        expires = pair.certificate.not_valid_after_utc
    except (OSError, ValueError):
        return None
    return pair if expires > now + timedelta(days=1) else None


def _write_pair(folder: Path, pair: certs.KeyPair) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    key_path = folder / "app-key.pem"
    key_path.write_bytes(pair.private_key_pem)
    key_path.chmod(0o600)
    (folder / "app-cert.pem").write_bytes(pair.certificate_pem)


def _shared_pair(cert_dir: Path, now: datetime) -> certs.KeyPair:
    folder = cert_dir / "shared"
    pair = _read_pair(folder / "app-cert.pem", folder / "app-key.pem", now)
    if pair is None:
        pair = certs.make_client_certificate("licensewatch collector", now + timedelta(days=730))
        _write_pair(folder, pair)
    return pair


def _certificate(
    cert_dir: Path, tenant_id: str, now: datetime, shared: certs.KeyPair | None
) -> ClientCertificate:
    folder = cert_dir / tenant_id
    cert_path, key_path = folder / "app-cert.pem", folder / "app-key.pem"
    pair = _read_pair(cert_path, key_path, now)
    if pair is None:
        pair = shared or certs.make_client_certificate(
            f"licensewatch collector {tenant_id}", now + timedelta(days=730)
        )
        _write_pair(folder, pair)
    cert = x509.load_pem_x509_certificate(pair.certificate_pem)
    sha1, sha256 = certs.thumbprints(pair.certificate_pem)
    public = cert.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    expires, paths = cert.not_valid_after_utc, (str(cert_path), str(key_path))
    return ClientCertificate(sha1, sha256, pair.certificate_pem, public, expires, *paths)


def _spread(rng: random.Random, n: int, counts: dict[str, int]) -> list[str]:
    """n labels: `counts` of each named one (at most n in all), the rest "", in a seeded order."""
    labels: list[str] = []
    for label, k in counts.items():
        labels += [label] * min(k, n - len(labels))
    labels += [""] * (n - len(labels))
    rng.shuffle(labels)
    return labels


def _share(n: int, share: float) -> int:
    return math.ceil(n * share) if share > 0 else 0


def _pool(rng: random.Random, now: datetime, low_days: int, high_days: int) -> list[datetime]:
    # A few hundred shared instants instead of one datetime per user: 300k users build fast.
    return [
        now - timedelta(days=rng.randrange(low_days, high_days), seconds=rng.randrange(86400))
        for _ in range(499)
    ]


def _people(tenant: Tenant, rng: random.Random, recipe: Scenario, n: int, now: datetime) -> None:
    by_part = {p.part_number: p for p in tenant.products.values()}
    parts = {part for part, _ in (*recipe.base, *recipe.addons)}
    extra = [(p.sku_id, 0.02) for p in tenant.products.values() if p.part_number not in parts]
    guests = _share(n, recipe.guest_share)
    licensed_guests = _share(guests, recipe.guest_licensed_share)
    roles = _spread(rng, n, {
        "guest+": licensed_guests, "guest": guests - licensed_guests,
        "disabled": _share(n, recipe.disabled_share),
        "unlicensed": _share(n, recipe.unlicensed_share),
    })  # fmt: skip
    never, stale_users = _share(n, recipe.never_signed_in_share), _share(n, recipe.stale_share)
    activity = _spread(rng, n, {"never": never, "stale": stale_users})
    ranges = ((0, 30), (91, 400), (401, 3000), (0, 14))
    recent, stale, old, hires = (_pool(rng, now, *r) for r in ranges)
    group_for = {sku: g for g in tenant.groups.values() for sku, _ in g.assigned_licenses}
    group_plans = {g.id: dict(g.assigned_licenses) for g in tenant.groups.values()}
    base = [by_part[part].sku_id for part, _ in recipe.base]
    cumulative = list(itertools.accumulate(w for _, w in recipe.base))
    addons = [(by_part[part].sku_id, p) for part, p in recipe.addons] + extra
    # A plan admins often switch off on direct assignments (the product's last user plan).
    optional = {
        sku: tuple(p.plan_id for p in product.service_plans if p.applies_to == "User")[-1:]
        for sku, product in tenant.products.items()
    }
    cost_centres = {d: f"CC-{1000 + 10 * i}" for i, d in enumerate(recipe.departments)}
    titles = {d: [f"{d} {t}" for t in scenarios.JOB_TITLES] for d in recipe.departments}
    seen: dict[str, int] = {}
    service = list(scenarios.SERVICE_ACCOUNTS)
    pick, domain = rng.random, tenant.domain

    def choice(items: Sequence[_T]) -> _T:  # rng.choice costs a microsecond more per call
        return items[int(pick() * len(items))]

    first_names, last_names = scenarios.FIRST_NAMES, scenarios.LAST_NAMES
    for i in range(n):
        role, guest = roles[i], roles[i].startswith("guest")
        first, last = choice(first_names), choice(last_names)
        display = f"{first} {last}"
        if service and not guest:
            local, display = service.pop(0)
            given: str | None = None
            surname: str | None = None
        else:
            local, given, surname = upn_local(f"{first}.{last}"), first, last
        count = seen[local] = seen.get(local, 0) + 1
        if count > 1:
            local = f"{local}{count}"
        if guest:
            external = choice(scenarios.EXTERNAL_DOMAINS)
            upn, mail = f"{local}_{external}#EXT#@{domain}", f"{local}@{external}"
        else:
            upn = mail = f"{local}@{domain}"
        country, usage, city = choice(scenarios.COUNTRIES)
        department = choice(recipe.departments)
        kind = activity[i]
        created = choice(hires) if kind == "never" and pick() < 0.5 else choice(old)
        sign_in = None
        if kind != "never":
            last_sign_in = choice(stale if kind == "stale" else recent)
            sign_in = SignInActivity(
                last_sign_in, choice(stale if kind == "stale" else recent), last_sign_in
            )
        uid = guid(rng)
        assignments: list[LicenseAssignment] = []
        if role == "guest+":
            assignments.append(LicenseAssignment(base[-1], None, (), "Active", "None", created))
        elif role in ("", "disabled"):
            main = base[bisect.bisect(cumulative, pick() * cumulative[-1])]
            skus = [main] + [sku for sku, p in addons if pick() < p]
            for sku in skus:
                group = group_for.get(sku)
                if group is not None and pick() < recipe.group_route:
                    group.member_ids.append(uid)
                    plans = group_plans[group.id][sku]
                    assignments.append(
                        LicenseAssignment(sku, group.id, plans, "Active", "None", created)
                    )
                    if pick() >= recipe.duplicate_share:
                        continue
                plans = optional[sku] if pick() < 0.1 else ()
                assignments.append(LicenseAssignment(sku, None, plans, "Active", "None", created))
        located = role != "guest"  # members and licensed guests have a usage location
        user = User(
            uid, upn, display, given, surname, mail,
            account_enabled=role != "disabled", user_type="Guest" if guest else "Member",
            department=None if guest else department,
            job_title=None if guest else choice(titles[department]),
            company_name=None if guest else tenant.display_name,
            country=country if located else None, usage_location=usage if located else None,
            city=None if guest else city, office_location=None if guest else city,
            created=created, employee_id=None if guest else str(100000 + i),
            cost_center=None if guest else cost_centres[department],
            on_premises_sync_enabled=True if not guest and pick() < recipe.synced_share else None,
            assignments=assignments, sign_in=sign_in,
        )  # fmt: skip
        tenant.add_user(user)
