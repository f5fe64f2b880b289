"""A product's page and API at scale: real requests through the app, in-process, as W5 asks them.

`python -m benchmarks.web_product [--sizes 300000,1000000] [--databases sqlite,postgresql]`
builds W5's tenant (benchmarks/webdata.py, its publish included), signs in, and times W5's
product requests (most- and least-held product: page, holders API, product API, holders
search) through the FastAPI app, median and maximum of 7 after one warm-up
(benchmarks/webclient.py). `--url URL` times an already built W5 database instead (e.g. one
kept from an earlier run, or read by an older checkout for a before/after: no upgrade).
"""

from __future__ import annotations

from sqlalchemy import select
from starlette.testclient import TestClient

from benchmarks import webclient
from licensewatch.storage.database import make_engine
from licensewatch.storage.models import Sku

REQUESTS = (
    ("page product (most held)", "/tenants/bench/products/{big}"),
    ("page product (least held)", "/tenants/bench/products/{small}"),
    ("page product holders search", "/tenants/bench/products/{big}?search={term}"),
    ("API product", "/api/v1/tenants/bench/products/{big}"),
    ("API holders (most held)", "/api/v1/tenants/bench/products/{big}/holders"),
    ("API holders (least held)", "/api/v1/tenants/bench/products/{small}/holders"),
)


def _values(url: str, client: TestClient, bearer: dict[str, str]) -> dict[str, str]:
    """The most and the least held product with holders, as W5 picks them."""
    engine = make_engine(url, upgrade=False)
    try:
        with engine.connect() as connection:
            held = Sku.direct_assigned + Sku.group_assigned
            rows = connection.execute(select(Sku.sku_id, held).where(held > 0)).all()
    finally:
        engine.dispose()
    ordered = sorted(rows, key=lambda r: r[1])
    return {"big": ordered[-1][0], "small": ordered[0][0], "term": "user0001"}


def main(argv: list[str] | None = None) -> int:
    return webclient.main(
        "python -m benchmarks.web_product", __doc__, "300000,1000000", REQUESTS, _values, 7, argv
    )


if __name__ == "__main__":
    raise SystemExit(main())
