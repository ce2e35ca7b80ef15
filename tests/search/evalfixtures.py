"""Evaluation test helpers: a small real ``run_query`` over canned results, and a real sample snapshot.

:func:`fixture_engine` pages like the engine (``limit`` + an offset ``cursor``), so evaluation code
paths that follow cursors are exercised without the engine. :func:`build_workspace` builds a real
on-disk snapshot of two stores of the repository's sample catalog; :func:`judged_set` derives
queries and judgments from those products.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from indexer.build.embed import Encoder
from indexer.build.index import build_index
from indexer.crawl.parse import etsy_merchant, etsy_product, shopify_merchant, shopify_product
from indexer.errors import QueryError
from indexer.models import Merchant, Product
from indexer.workspace import Workspace
from search.eval.gold import parse_constraints
from search.eval.io import EvalQuery
from search.schema import (
    BuyInfo,
    Context,
    Filters,
    Interpreted,
    MerchantOut,
    Money,
    Result,
    SearchRequest,
    SearchResponse,
    VariantOut,
)


def result(doc_id: str, score: float = 1.0, *, options: dict[str, str] | None = None, price: int | None = 1000,
           currency: str = "USD", available: bool = True, eligible: bool = True,
           reasons: list[str] | None = None, vendor: str | None = None) -> Result:
    """A search result as the engine returns it."""
    return Result(
        doc_id=doc_id, title=doc_id, platform="shopify", merchant=MerchantOut(id="m", name="M"),
        url=f"https://m.example/{doc_id}", score=score,
        variant=VariantOut(id=f"v-{doc_id}", title="v", options=options or {},
                           price=Money(amount=price, currency=currency) if price is not None else None,
                           available=available),
        buy=BuyInfo(eligible=eligible, reasons=reasons or [], checkout_url=None, checked_at="2026-01-01T00:00:00Z"),
        vendor=vendor,
    )


def fixture_engine(table: dict[str, list[Result]], *, by_mode: dict[str, dict[str, list[Result]]] | None = None,
                   country: str | None = None, refuse: set[str] | None = None,
                   calls: list[SearchRequest] | None = None) -> Callable[[SearchRequest], SearchResponse]:
    """A run_query over canned results keyed by query text (optionally per mode)."""

    def run_query(req: SearchRequest) -> SearchResponse:
        if calls is not None:
            calls.append(req)
        if refuse and req.query in refuse:
            raise QueryError(f"cannot answer {req.query!r}")
        rows = (by_mode or {}).get(req.mode, table).get(req.query, [])
        start = int(req.cursor or 0)
        page = rows[start:start + req.limit]
        nxt = str(start + req.limit) if start + req.limit < len(rows) else None
        return SearchResponse(
            query=req.query,
            interpreted=Interpreted(text=req.query, filters=req.filters or Filters(),
                                    country=country or req.context.country),
            results=page, next_cursor=nxt,
        )

    return run_query


SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"


def sample_products(stores: tuple[str, ...] = ("shopify/northfield-knits", "etsy/hollowoak-woodworks")
                    ) -> tuple[list[Merchant], list[Product]]:
    """Merchants and parsed products of a few sample stores (no HTTP)."""
    merchants: list[Merchant] = []
    products: list[Product] = []
    for rel in stores:
        d = SAMPLE / rel
        if d.parent.name == "shopify":
            m = shopify_merchant(json.loads((d / "meta.json").read_text()), f"https://{d.name}.example")
            parsed = [shopify_product(raw, m) for raw in json.loads((d / "products.json").read_text())["products"]]
        else:
            m = etsy_merchant(json.loads((d / "shop.json").read_text()), "https://openapi.etsy.com/v3/application")
            parsed = []
            for listing in json.loads((d / "listings.json").read_text())["results"]:
                inv = d / "inventory" / f"{listing['listing_id']}.json"
                parsed.append(etsy_product(listing, json.loads(inv.read_text()) if inv.exists() else None, m))
        merchants.append(m)
        products.extend(p for p in parsed if isinstance(p, Product))
    return merchants, products


def build_workspace(home: Path, encoder: Encoder) -> tuple[Workspace, list[Product]]:
    """A workspace whose current snapshot indexes :func:`sample_products`."""
    merchants, products = sample_products()
    ws = Workspace.resolve(home)
    now = datetime.now(UTC).isoformat(timespec="seconds")  # fresh data: eligibility is not "stale"
    build_index(products, merchants, ws, encoder=encoder, watermark="eval-test",
                crawled_at=dict.fromkeys((p.doc_id for p in products), now))
    return ws, products


def _has(p: Product, **want: str) -> bool:
    return any(all(any(o.canonical == k and o.value.lower() == v for o in var.options) for k, v in want.items())
               for var in p.variants)


def judged_set(products: list[Product]) -> tuple[list[EvalQuery], dict[str, dict[str, int]]]:
    """Queries and judgments derived from the catalog itself (grade 2 = exactly what was asked)."""
    beanies = [p for p in products if (p.product_type or "") == "Beanies"]
    boards = [p for p in products if "cutting board" in p.tags]
    qrels = {
        "red-m": {p.doc_id: 2 if _has(p, color="red", size="m") else 1 for p in beanies},
        "boards": {p.doc_id: 2 for p in boards},
        "ca": {p.doc_id: 2 if "scar" in p.title.lower() else 0 for p in products if p.product_type == "Scarves"},
        "nothing": {beanies[0].doc_id: 0},
    }
    queries = [
        EvalQuery("red-m", "red beanie in size M", constraints=parse_constraints({"color": "red", "size": "M"}, "t"),
                  kind="constrained"),
        EvalQuery("boards", "walnut cutting board", kind="semantic"),
        EvalQuery("ca", "warm scarf", context=Context(country="CA"),
                  constraints=parse_constraints({"country": "CA"}, "t"), kind="constrained"),
        EvalQuery("nothing", "pottery vase", kind="hard"),
        EvalQuery("unjudged", "wool socks"),
    ]
    return queries, qrels
