"""build_world: determinism, credentials, scale, and the product catalogue (built-in and CSV)."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest

from catalog_csv import KINDS, CatalogFile, catalog_file, microsoft_catalog
from licensewatch.emulator.products import builtin_catalog, load_catalog_csv, merged_catalog
from licensewatch.emulator.scenarios import SCENARIOS
from licensewatch.emulator.seed import build_world
from licensewatch.emulator.state import World, utcnow
from licensewatch.emulator.usage_seed import REPORT_ROLES


@pytest.fixture(scope="module")
def cert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # One directory per module: certificates are reused by tenant id, so repeated builds stay fast.
    return tmp_path_factory.mktemp("certs")


@pytest.fixture(params=KINDS)
def catalog(request: pytest.FixtureRequest) -> CatalogFile:
    """The project's synthetic copy (everywhere) and Microsoft's full file (CI)."""
    return catalog_file(request.param)


@pytest.fixture
def csv_path(catalog: CatalogFile, tmp_path: Path) -> Path:
    """The catalogue written to a file, as `--catalog FILE` reads it."""
    return catalog.write(tmp_path)


def fingerprint(world: World) -> list[Any]:
    """Everything that must be stable for a given seed (ids, names, secrets, licences, units)."""
    return [
        (
            t.tenant_id, t.domain, t.display_name, t.has_premium,
            [(a.client_id, sorted(a.roles), [(s.key_id, s.value) for s in a.secrets])
             for a in t.apps.values()],
            [(u.id, u.user_principal_name, u.user_type, u.account_enabled,
              [(x.sku_id, x.assigned_by_group, x.state) for x in u.assignments])
             for _, u in t.iter_users_from(0)],
            [(s.id, s.sku_id, s.status, s.total_licenses, s.is_trial) for s in t.subscriptions],
            [(g.id, g.display_name, list(g.member_ids)) for g in t.groups.values()],
        )
        for t in world.tenants.values()
    ]  # fmt: skip


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_same_arguments_build_the_same_world(scenario: str, cert_dir: Path) -> None:
    first = build_world(tenants=2, users=30, seed=11, scenario=scenario, cert_dir=cert_dir)
    second = build_world(tenants=2, users=30, seed=11, scenario=scenario, cert_dir=cert_dir)
    assert fingerprint(first) == fingerprint(second)


def test_another_seed_builds_another_world(cert_dir: Path) -> None:
    one = build_world(users=30, seed=1, scenario="enterprise", cert_dir=cert_dir)
    two = build_world(users=30, seed=2, scenario="enterprise", cert_dir=cert_dir)
    ids_one = {u.id for t in one.tenants.values() for _, u in t.iter_users_from(0)}
    ids_two = {u.id for t in two.tenants.values() for _, u in t.iter_users_from(0)}
    assert set(one.tenants).isdisjoint(two.tenants)
    assert ids_one.isdisjoint(ids_two)


def test_every_tenant_has_an_app_with_entra_shaped_credentials(cert_dir: Path) -> None:
    world = build_world(tenants=2, users=10, seed=3, scenario="msp", cert_dir=cert_dir)
    now = utcnow()
    for tenant in world.tenants.values():
        (app,) = tenant.apps.values()
        # Report permissions (usage_seed): granted by most tenants, optional for licensewatch.
        assert app.roles - REPORT_ROLES == {"Directory.Read.All", "User.Read.All"}
        valid = [s for s in app.secrets if s.expires > now]
        expired = [s for s in app.secrets if s.expires <= now]
        assert len(valid) == 1
        assert len(expired) == 1
        assert len(valid[0].value) == 40
        assert valid[0].value[3].isdigit()
        assert valid[0].value[4:6] == "Q~"
        (cert,) = app.certificates
        assert cert.certificate_path == str(cert_dir / tenant.tenant_id / "app-cert.pem")
        assert cert.private_key_path is not None
        key_mode = stat.S_IMODE(Path(cert.private_key_path).stat().st_mode)
        assert key_mode == 0o600
        assert len(cert.thumbprint_sha1) == 40
        assert cert.expires > now


def test_certificates_are_reused_across_restarts(cert_dir: Path) -> None:
    first = build_world(users=5, seed=21, scenario="small-office", cert_dir=cert_dir)
    again = build_world(users=5, seed=21, scenario="small-office", cert_dir=cert_dir)
    thumbprints = [
        [
            c.thumbprint_sha256
            for t in w.tenants.values()
            for a in t.apps.values()
            for c in a.certificates
        ]
        for w in (first, again)
    ]
    assert thumbprints[0] == thumbprints[1]


def test_big_worlds_share_one_certificate(tmp_path: Path) -> None:
    world = build_world(tenants=6, users=5, seed=4, scenario="msp", cert_dir=tmp_path)
    prints = {
        c.thumbprint_sha1
        for t in world.tenants.values()
        for a in t.apps.values()
        for c in a.certificates
    }
    assert len(prints) == 1
    assert all((tmp_path / tid / "app-key.pem").is_file() for tid in world.tenants)


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_users_argument_sets_users_per_tenant(scenario: str, cert_dir: Path) -> None:
    world = build_world(tenants=2, users=37, seed=5, scenario=scenario, cert_dir=cert_dir)
    assert [t.user_count() for t in world.tenants.values()] == [37, 37]


def test_bad_arguments_are_refused(cert_dir: Path) -> None:
    with pytest.raises(ValueError, match="unknown scenario"):
        build_world(scenario="nope", cert_dir=cert_dir)
    with pytest.raises(ValueError, match="at least 15"):
        build_world(scenario="messy", users=5, cert_dir=cert_dir)
    with pytest.raises(ValueError, match="tenants"):
        build_world(tenants=0, cert_dir=cert_dir)


def test_twenty_thousand_users_are_built(cert_dir: Path) -> None:
    # How fast is measured by `make bench` (benchmarks/w6_seed.py), not by the correctness suite.
    world = build_world(users=20_000, seed=8, scenario="messy", cert_dir=cert_dir)
    tenant = next(iter(world.tenants.values()))
    assert tenant.user_count() == 20_000
    assert sum(tenant.consumed_units().values()) > 20_000 * 0.5


# ---- catalogue ---------------------------------------------------------------------------------
def plan_ids(part: str) -> set[str]:
    return {p.plan_id for p in builtin_catalog()[part].service_plans}


def test_builtin_catalogue_has_real_overlapping_families() -> None:
    catalog = builtin_catalog()
    assert len(catalog) >= 15
    assert catalog["ENTERPRISEPACK"].sku_id == "6fd2c87f-b296-42f0-b197-1e91e994b900"
    assert catalog["SPE_E5"].sku_id == "06ebc4ee-1bb5-47dd-8120-11324bc54e06"
    for smaller, bigger in [
        ("ENTERPRISEPACK", "ENTERPRISEPREMIUM"), ("SPE_E3", "SPE_E5"), ("EMS", "EMSPREMIUM"),
        ("AAD_PREMIUM", "AAD_PREMIUM_P2"), ("O365_BUSINESS_PREMIUM", "SPB"),
    ]:  # fmt: skip
        assert plan_ids(smaller) < plan_ids(bigger), (smaller, bigger)


def test_builtin_catalogue_matches_microsoft_csv(csv_path: Path) -> None:
    official = {p.sku_id: p for p in load_catalog_csv(csv_path)}
    for part, product in builtin_catalog().items():
        reference = official[product.sku_id]
        assert reference.part_number == part
        assert reference.display_name == product.display_name
        names = {p.plan_id: p.name for p in reference.service_plans}
        for plan in product.service_plans:
            assert names[plan.plan_id] == plan.name, (part, plan.name)


def test_csv_loads_every_sku(catalog: CatalogFile, csv_path: Path) -> None:
    products = load_catalog_csv(csv_path)
    assert len(products) == catalog.products  # one per distinct SKU GUID
    assert all(p.part_number == p.part_number.strip() for p in products)


def test_microsofts_csv_loads_every_sku(tmp_path: Path) -> None:
    products = load_catalog_csv(microsoft_catalog().write(tmp_path))
    assert len(products) == 569  # distinct SKU GUIDs
    by_part = {p.part_number: p for p in products}
    assert len(by_part["ENTERPRISEPACK"].service_plans) == 36
    assert sum(p.part_number == "MCOPSTN5" for p in products) == 2
    assert all(p.part_number == p.part_number.strip() for p in products)
    assert "AAD_PREMIUM_USGOV_GCCHIGH" in by_part


def test_damaged_csv_variants_load(tmp_path: Path) -> None:
    text = (
        "Product_Display_Name, String_ Id ,GUID,Service_Plan_Name,Service_Plan_Id,Friendly\r\n"
        "Office 365 E3,ENTERPRISEPACK ,6FD2C87F-B296-42F0-B197-1E91E994B900,TEAMS1,"
        "57ff2da0-773e-42df-b2af-ffb7a2317929,Teams\r\n"
        "Office 365 E3,ENTERPRISEPACK, 6fd2c87f-b296-42f0-b197-1e91e994b900 , SWAY ,"
        "a23b959c-7ce8-4e57-9140-b90eb88a9e97,Sway\r\n"
        "Office 365 E3,ENTERPRISEPACK,6fd2c87f-b296-42f0-b197-1e91e994b900,TEAMS1,"
        "57ff2da0-773e-42df-b2af-ffb7a2317929,Teams\r\n"
        "Renamed,OTHER_NAME,6fd2c87f-b296-42f0-b197-1e91e994b900,SWAY,"
        "a23b959c-7ce8-4e57-9140-b90eb88a9e97,Sway\r\n"
        '"Planner, Project",PROJECTPROFESSIONAL,53818b1b-4a27-454b-8896-0dba576410e6,,,\r\n'
    )
    path = tmp_path / "catalog.csv"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    products = {p.part_number: p for p in load_catalog_csv(path)}
    assert set(products) == {"ENTERPRISEPACK", "PROJECTPROFESSIONAL"}
    e3 = products["ENTERPRISEPACK"]
    assert e3.sku_id == "6fd2c87f-b296-42f0-b197-1e91e994b900"
    assert [p.name for p in e3.service_plans] == ["TEAMS1", "SWAY"]
    assert products["PROJECTPROFESSIONAL"].display_name == "Planner, Project"
    assert products["PROJECTPROFESSIONAL"].service_plans == ()


def test_csv_without_the_columns_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("a,b,c\n1,2,3\n")
    with pytest.raises(ValueError, match="missing column"):
        load_catalog_csv(path)


def test_catalog_file_widens_the_world(
    catalog: CatalogFile, csv_path: Path, cert_dir: Path
) -> None:
    world = build_world(
        users=40, seed=6, scenario="enterprise", cert_dir=cert_dir, catalog=csv_path
    )
    tenant = next(iter(world.tenants.values()))
    builtin = {p.sku_id for p in merged_catalog([]).values()}
    extra = [p for p in tenant.products.values() if p.sku_id not in builtin]
    assert len(extra) == SCENARIOS["enterprise"].extra_csv_products
    assert all(p.service_plans for p in extra)
    # The CSV's plan lists replace the built-in ones (Microsoft's are the full, longer lists).
    e3 = next(p for p in tenant.products.values() if p.part_number == "SPE_E3")
    listed = next(p for p in load_catalog_csv(csv_path) if p.part_number == "SPE_E3")
    assert e3.service_plans == listed.service_plans
    if catalog.kind == "microsoft":
        assert len(e3.service_plans) > len(builtin_catalog()["SPE_E3"].service_plans)
