"""Catalogue import (real CSV, damaged copies, URL), name precedence and unknown SKUs."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from conftest import in_ci
from database_fixtures import add_tenant
from licensewatch.domain.balance import build_row
from licensewatch.domain.catalog import CatalogError
from licensewatch.intelligence.catalog import (
    UnknownProduct,
    import_catalog,
    product_names,
    read_source,
    seen_products,
    set_name,
    unknown_products,
    with_names,
)
from licensewatch.storage.database import session_scope
from licensewatch.storage.models import Sku, utcnow
from licensewatch.storage.models.intelligence import CatalogProduct, CatalogServicePlan

SHARED_CSV = (
    Path(__file__).resolve().parents[3] / "shared/data/licensing-service-plan-reference.csv"
)
E3 = "6fd2c87f-b296-42f0-b197-1e91e994b900"
M365_E3 = "05e9a617-0261-4cee-bb44-138d3ef5d965"
ODD = "00000000-0000-4000-8000-0000000000aa"


def real_csv() -> bytes:
    if not SHARED_CSV.exists():
        if in_ci():
            pytest.fail(f"{SHARED_CSV} is missing in CI")
        pytest.skip(f"Microsoft's product-name CSV is not at {SHARED_CSV} (dev workspace only)")
    return SHARED_CSV.read_bytes()


def _counts(engine: Engine) -> tuple[int, int]:
    with session_scope(engine, write=False) as session:
        products = session.scalar(select(func.count()).select_from(CatalogProduct)) or 0
        plans = session.scalar(select(func.count()).select_from(CatalogServicePlan)) or 0
        return int(products), int(plans)


def _skus(engine: Engine, tenant_pk: int, *parts: tuple[str, str]) -> None:
    with session_scope(engine) as session:
        for sku_id, part in parts:
            session.add(Sku(tenant_id=tenant_pk, sku_id=sku_id, sku_part_number=part))


def test_real_csv_import_and_name_precedence(engine: Engine) -> None:
    result = import_catalog(engine, real_csv())
    assert (result.products, result.plans) == (569, 723)
    assert _counts(engine) == (569, 723)
    tenant = add_tenant(engine)
    _skus(engine, tenant, (E3, "ENTERPRISEPACK"), (M365_E3, "SPE_E3"), (ODD, "ODD_SKU"))
    with session_scope(engine, write=False) as session:
        names = product_names(session)
        assert names.display_name(E3, "ENTERPRISEPACK") == "Office 365 E3"
        assert names.plan_name("efb87545-963c-4e0d-99df-69c6916d9eb0", "EXCHANGE_S_ENTERPRISE")
        assert names.display_name(ODD, "ODD_SKU") == "ODD_SKU"
        assert [p.part_number for p in unknown_products(session)] == ["ODD_SKU"]
    set_name(engine, "odd_sku", "Contoso special")  # part numbers match case-insensitively
    set_name(engine, E3, "O365 E3 (EA)")  # an override wins over Microsoft's name
    with session_scope(engine, write=False) as session:
        seen = {p.part_number: (p.name, p.source) for p in seen_products(session)}
        assert seen == {
            "ENTERPRISEPACK": ("O365 E3 (EA)", "override"),
            "SPE_E3": ("Microsoft 365 E3", "microsoft"),
            "ODD_SKU": ("Contoso special", "override"),
        }
        assert unknown_products(session) == []
        row = build_row(
            tenant="contoso", sku_id=ODD, sku_part_number="ODD_SKU", applies_to="User",
            capability_status="Enabled", enabled=1, warning=0, suspended=0, locked_out=0,
            consumed=1, now=utcnow(),
        )  # fmt: skip
        assert with_names(session, [row])[0].to_dict()["name"] == "Contoso special"


def test_builtin_names_work_without_an_import(engine: Engine) -> None:
    tenant = add_tenant(engine)
    _skus(engine, tenant, (M365_E3, "SPE_E3"))
    with session_scope(engine, write=False) as session:
        assert product_names(session).display_name(M365_E3, "SPE_E3") == "Microsoft 365 E3"
        assert seen_products(session)[0].source == "built-in"
    with pytest.raises(UnknownProduct, match="unknown product 'NOPE'"):
        set_name(engine, "NOPE", "x")


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda d: d.replace(b"String_Id", b"Strung"), "missing column"),
        (lambda d: d[: len(d) // 2] + b"\nbroken,row\n" + d[len(d) // 2 :], "fields, expected"),
        (lambda d: d.replace(E3.encode(), b"not-a-guid", 1), "is not a GUID"),
        (lambda d: b"\xff\xfe" + d, "not UTF-8"),
        (lambda d: b"", "empty"),
    ],
)
def test_damaged_csv_imports_nothing(engine: Engine, damage: Any, message: str) -> None:
    good = real_csv()
    import_catalog(engine, good)
    with pytest.raises(CatalogError, match=message):
        import_catalog(engine, damage(good))
    assert _counts(engine) == (569, 723)  # the previous import is untouched


def test_read_source_file_and_url_errors(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="cannot read"):
        read_source(str(tmp_path / "missing.csv"))
    with pytest.raises(CatalogError, match="cannot download"):
        read_source("https://127.0.0.1:9/catalog.csv")


@pytest.fixture
def csv_server() -> Iterator[str]:
    body = real_csv()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            ok = self.path == "/catalog.csv"
            self.send_response(200 if ok else 404)
            self.send_header("Content-Length", str(len(body) if ok else 0))
            self.end_headers()
            if ok:
                self.wfile.write(body)

        def log_message(self, *_args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_import_from_url(engine: Engine, csv_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert import_catalog(engine, read_source(f"{csv_server}/catalog.csv")).products == 569
    with pytest.raises(CatalogError, match="HTTP 404"):
        read_source(f"{csv_server}/elsewhere.csv")
