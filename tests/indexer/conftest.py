"""Fixtures of the index tests: real products parsed from the shared catalogs, the real model once per session."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from indexer.crawl.parse import etsy_merchant, etsy_product, shopify_merchant, shopify_product
from indexer.models import Merchant, Product

# Small real catalogs (about 140 products in all): enough variety, fast to embed.
SMALL_CATALOGS = ("shopify/analemma", "shopify/great-outdoor", "shopify/earth-revibe", "etsy/kalima-arts",
                  "shopify/yeah-noir-yeah")


def parse_catalog(directory: Path) -> tuple[Merchant, list[Product]]:
    """Merchant and products of one shared catalog folder, parsed with indexer.crawl.parse (no HTTP)."""
    products: list[Product] = []
    if directory.parent.name == "shopify":
        merchant = shopify_merchant(json.loads((directory / "meta.json").read_text()), f"https://{directory.name}.example")
        for raw in json.loads((directory / "products.json").read_text())["products"]:
            p = shopify_product(raw, merchant)
            if isinstance(p, Product):
                products.append(p)
    else:
        merchant = etsy_merchant(json.loads((directory / "shop.json").read_text()),
                                 "https://openapi.etsy.com/v3/application")
        for listing in json.loads((directory / "listings.json").read_text())["results"]:
            inv = directory / "inventory" / f"{listing['listing_id']}.json"
            p = etsy_product(listing, json.loads(inv.read_text()) if inv.exists() else None, merchant)
            if isinstance(p, Product):
                products.append(p)
    return merchant, products


@pytest.fixture(scope="session")
def small_catalog(shared_dir: Path) -> tuple[list[Merchant], list[Product]]:
    """Merchants and products of :data:`SMALL_CATALOGS`."""
    merchants, products = [], []
    for rel in SMALL_CATALOGS:
        m, ps = parse_catalog(shared_dir / "catalogs" / rel)
        merchants.append(m)
        products.extend(ps)
    return merchants, products


@pytest.fixture(scope="session")
def real_encoder():
    """The bundled all-MiniLM-L6-v2 on CPU, loaded once per test session."""
    from indexer.build.embed import load_encoder

    return load_encoder(None, "cpu")
