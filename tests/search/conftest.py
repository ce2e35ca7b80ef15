"""Builders for engine tests: products and merchants in code, an in-memory snapshot, an engine.

The in-memory snapshot uses the real pieces (the product-text recipe, bm25s, FAISS, the vocabulary)
with a :class:`HashingEncoder` so that unit and property tests run in milliseconds. End-to-end tests
build real snapshots on disk with the real model (see test_engine.py).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import pytest

from indexer.attributes import canonical_attribute
from indexer.build.embed import HashingEncoder
from indexer.build.language import product_languages
from indexer.build.lexical import LexicalIndex
from indexer.build.snapshot import Snapshot
from indexer.build.text import lexical_text, product_text
from indexer.build.vocabulary import Vocabulary
from indexer.models import Merchant, Option, OptionValue, Product, Variant
from search.engine import Engine, EngineSettings

_ids = itertools.count(1000)
NOW = 1_800_000_000.0  # the fixed clock of engine tests (2027-01-15)
NOW_ISO = "2027-01-15T08:00:00Z"


def merchant(mid: str = "shop-a.myshopify.com", *, platform: str = "shopify", currency: str = "USD",
             ships_to: Sequence[str] = ("US", "CA"), available: bool = True) -> Merchant:
    base = f"https://{mid}" if platform == "shopify" else "https://api.example.test/v3/application"
    return Merchant(merchant_id=mid, platform=platform, name=f"Shop {mid}", base_url=base,  # type: ignore[arg-type]
                    currency=currency, ships_to=tuple(ships_to), available=available,
                    shop_url=f"https://shops.example.test/{mid}")


def variant(options: dict[str, str] | None = None, *, price: int | None = 1000, currency: str = "USD",
            available: bool = True, quantity: int | None = None, vid: str | None = None) -> Variant:
    opts = tuple(OptionValue(k, canonical_attribute(k), v) for k, v in (options or {}).items())
    return Variant(variant_id=vid or str(next(_ids)), title=" / ".join(o.value for o in opts) or "Default Title",
                   price=price, currency=currency, available=available, options=opts, quantity=quantity)


def product(title: str, variants: Sequence[Variant], *, m: Merchant | None = None, vendor: str | None = "Acme",
            tags: Sequence[str] = (), gift_card: bool = False, personalization_required: bool = False,
            extra: dict[str, Any] | None = None, product_type: str | None = None, pid: str | None = None) -> Product:
    m = m or merchant()
    pid = pid or str(next(_ids))
    names: dict[str, list[str]] = {}
    for v in variants:
        for o in v.options:
            names.setdefault(o.name, [])
            if o.value not in names[o.name]:
                names[o.name].append(o.value)
    handle = f"p-{pid}"
    url = f"{m.base_url}/products/{handle}" if m.platform == "shopify" else f"https://www.etsy.com/listing/{pid}"
    return Product(
        doc_id=f"{m.platform}:{m.merchant_id}:{pid}", platform=m.platform, merchant_id=m.merchant_id, product_id=pid,
        title=title, url=url, variants=tuple(variants), handle=handle if m.platform == "shopify" else None,
        vendor=vendor, product_type=product_type, tags=tuple(tags),
        options=tuple(Option(n, canonical_attribute(n), tuple(v)) for n, v in names.items()),
        gift_card=gift_card, personalization_required=personalization_required, extra=dict(extra or {}),
    )


def make_snapshot(products: Sequence[Product], merchants: Sequence[Merchant], *, dim: int = 64,
                  crawled_at: str | None = NOW_ISO, version: str = "v000001",
                  path: Path = Path("/nonexistent")) -> Snapshot:
    """A complete snapshot in memory (HashingEncoder vectors, real BM25 and FAISS)."""
    products = sorted(products, key=lambda p: p.doc_id)
    enc = HashingEncoder(dim)
    vectors = enc.encode([product_text(p) for p in products]) if products else np.zeros((0, dim), np.float32)
    index = faiss.IndexFlatIP(dim)
    if len(products):
        index.add(vectors)
    crawled = {p.doc_id: crawled_at for p in products} if crawled_at else {}
    return Snapshot(
        version=version, path=path, manifest={"model": enc.name, "dim": dim}, products=tuple(products),
        merchants={m.merchant_id: m for m in merchants}, vectors=vectors, dense=index,
        lexical=LexicalIndex.build([lexical_text(p) for p in products], langs=product_languages(products)),
        vocabulary=Vocabulary.build(products),
        crawled_at=crawled,
    )


def make_engine(products: Sequence[Product], merchants: Sequence[Merchant], *, now: float = NOW,
                settings: EngineSettings | None = None, **kw: Any) -> Engine:
    snap = make_snapshot(products, merchants, **kw)
    return Engine(snap, encoder=HashingEncoder(snap.vectors.shape[1]), settings=settings, clock=lambda: now)


@pytest.fixture()
def wall_clock() -> float:
    return time.time()


def load_catalog(catalog_dir: Path, *, shopify_base: Any, etsy_api: str) -> tuple[list[Product], list[Merchant]]:
    """Records of a catalog directory (shopify/<slug>, etsy/<slug>) through the real parsers.

    ``shopify_base(slug)`` gives the store URL (e.g. the running simulator's); ``etsy_api`` the API base.
    """
    import json

    from indexer.crawl.parse import etsy_merchant, etsy_product, shopify_merchant, shopify_product

    products: list[Product] = []
    merchants: list[Merchant] = []
    for d in sorted((catalog_dir / "shopify").iterdir()):
        m = shopify_merchant(json.loads((d / "meta.json").read_text("utf-8")), shopify_base(d.name))
        merchants.append(m)
        raw = json.loads((d / "products.json").read_text("utf-8"))
        for item in raw["products"] if isinstance(raw, dict) else raw:
            p = shopify_product(item, m)
            if isinstance(p, Product):
                products.append(p)
    for d in sorted((catalog_dir / "etsy").iterdir()):
        m = etsy_merchant(json.loads((d / "shop.json").read_text("utf-8")), etsy_api)
        merchants.append(m)
        raw = json.loads((d / "listings.json").read_text("utf-8"))
        for listing in raw["results"] if isinstance(raw, dict) else raw:
            inv_path = d / "inventory" / f"{listing['listing_id']}.json"
            inv = json.loads(inv_path.read_text("utf-8")) if inv_path.is_file() else None
            p = etsy_product(listing, inv, m)
            if isinstance(p, Product):
                products.append(p)
    return products, merchants
