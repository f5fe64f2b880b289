"""Absurd prices (1e309, 5,000 digits) are refused by API, form, CLI and import, and never a 500."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from licensewatch.cli import app
from licensewatch.storage.database import session_scope
from licensewatch.storage.models.intelligence import ProductPrice
from web_fixtures import WebEnv
from web_seed import E3, E5

ABSURD = ["1e309", "1" * 5000, "NaN", "-Infinity", "2000000", "0.12345", "1_000", "-3"]
READ_PATHS = ["/costs", "/findings", "/report", "/report?format=xlsx", "/report?format=csv"]
READ_PATHS += ["/api/v1/costs", "/api/v1/findings", "/api/v1/prices", "/catalog"]


@pytest.fixture
def api(web: WebEnv) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {web.admin_token}"}
    with httpx.Client(base_url=web.base_url, headers=headers) as client:
        yield client


@pytest.fixture
def cli(web: WebEnv, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("LICENSEWATCH_HOME", str(web.settings.home))
    monkeypatch.setenv("LICENSEWATCH_DATABASE_URL", web.settings.database_url)
    monkeypatch.delenv("LICENSEWATCH_SECRET_KEY", raising=False)
    return CliRunner()


def _stored(web: WebEnv) -> dict[str, str]:
    with session_scope(web.engine, write=False) as session:
        return {row.sku_id: row.amount for row in session.query(ProductPrice)}


@pytest.mark.parametrize("amount", ABSURD)
def test_the_api_refuses_an_absurd_price_with_422(
    api: httpx.Client, web: WebEnv, amount: str
) -> None:
    response = api.put(f"/api/v1/prices/{E3}", json={"amount": amount})
    assert response.status_code == 422, response.text
    assert "price" in response.json()["detail"]
    assert len(response.text) < 500  # the message quotes at most the start of the input
    assert E3 not in _stored(web)


def test_the_form_refuses_an_absurd_price(admin: tuple[httpx.Client, str], web: WebEnv) -> None:
    client, csrf = admin
    for amount, message in (("1e309", "not a number"), ("1000001", "above the limit")):
        form = {"product": E3, "amount": amount, "currency": "EUR", "csrf_token": csrf}
        response = client.post("/catalog/price", data=form)
        assert response.status_code == 422
        assert message in response.text
    assert E3 not in _stored(web)


def test_the_cli_and_the_import_say_what_is_wrong(
    cli: CliRunner, web: WebEnv, tmp_path: Path
) -> None:
    refused = cli.invoke(app, ["prices", "set", E3, "1e309"])
    assert refused.exit_code == 2, refused.output
    assert "price '1e309' is not a number" in refused.output
    assert "Traceback" not in refused.output
    assert "InvalidOperation" not in refused.output
    long = cli.invoke(app, ["prices", "set", E3, "9" * 5000])
    assert long.exit_code == 2
    assert "too long" in long.output
    sheet = tmp_path / "prices.csv"
    sheet.write_text(
        f"product,price,currency,term\n{E3},12.00,EUR,monthly\n{E5},1e309,EUR,annual\n"
    )
    imported = cli.invoke(app, ["prices", "import", str(sheet)])
    assert imported.exit_code == 2
    assert "no price was imported" in imported.output
    assert "line 3: price '1e309' is not a number" in imported.output
    assert _stored(web) == {}
    done = cli.invoke(app, ["prices", "set", E3, "999999.9999", "--term", "annual"])
    assert done.exit_code == 0, done.output
    assert _stored(web) == {E3: "999999.9999"}


@pytest.mark.parametrize("stored", ["1e309", "9" * 5000, "NaN", "-5"])
def test_an_absurd_stored_price_breaks_no_page(
    web: WebEnv, viewer: tuple[httpx.Client, str], api: httpx.Client, cli: CliRunner, stored: str
) -> None:
    """Rows written before prices were validated count as "no price", never as a 500."""
    with session_scope(web.engine) as session:
        session.merge(
            ProductPrice(
                sku_id=E3, part_number="SPE_E3", amount=stored, currency="EUR", term="monthly"
            )
        )
        session.merge(
            ProductPrice(
                sku_id=E5, part_number="SPE_E5", amount="36", currency="EUR", term="monthly"
            )
        )
    client, _ = viewer
    try:
        for path in READ_PATHS:
            response = (api if path.startswith("/api") else client).get(path)
            assert response.status_code == 200, (path, response.text[:300])
        prices = {p["sku_id"] for p in api.get("/api/v1/prices").json()}
        assert prices == {E5}
        for command in (["costs"], ["findings"], ["prices", "list"], ["costs", "--format", "csv"]):
            result = cli.invoke(app, command)
            assert result.exit_code == 0, (command, result.output)
            assert "Traceback" not in result.output
    finally:
        with session_scope(web.engine) as session:
            session.query(ProductPrice).delete()
