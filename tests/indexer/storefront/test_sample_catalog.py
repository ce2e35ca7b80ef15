"""The bundled sample catalog: it parses completely, has the promised features, and regenerates identically."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from indexer.crawl.parse import etsy_merchant, etsy_product, shopify_merchant, shopify_product
from indexer.models import Product, Quarantined
from indexer.storefront import running_storefront

from .conftest import ETSY_KEY, REPO, SAMPLE, SHARED_CATALOGS


def _parse_all() -> list[Product | Quarantined]:
    out: list[Product | Quarantined] = []
    for d in sorted((SAMPLE / "shopify").iterdir()):
        merchant = shopify_merchant(json.loads((d / "meta.json").read_text()), f"http://x/shopify/{d.name}")
        out += [shopify_product(p, merchant) for p in json.loads((d / "products.json").read_text())["products"]]
    for d in sorted((SAMPLE / "etsy").iterdir()):
        merchant = etsy_merchant(json.loads((d / "shop.json").read_text()), "http://x/etsy/v3/application")
        for listing in json.loads((d / "listings.json").read_text())["results"]:
            inv = json.loads((d / "inventory" / f"{listing['listing_id']}.json").read_text())
            out.append(etsy_product(listing, inv, merchant))
    return out


def test_every_sample_product_parses() -> None:
    records = _parse_all()
    assert not [r for r in records if isinstance(r, Quarantined)]
    assert 300 <= len(records) <= 500
    assert len({r.doc_id for r in records if isinstance(r, Product)}) == len(records)


def test_sample_has_the_promised_variety() -> None:
    products = [r for r in _parse_all() if isinstance(r, Product)]
    assert len(list((SAMPLE / "shopify").iterdir())) >= 4 and len(list((SAMPLE / "etsy").iterdir())) >= 2
    currencies = {v.currency for p in products for v in p.variants}
    assert {"USD", "CAD", "GBP", "EUR", "JPY"} <= currencies
    names = {o.name for p in products for o in p.options}
    assert {"Couleur", "Taille", "Farbe", "Größe"} <= names
    assert any(not v.available for p in products for v in p.variants)
    assert any(p.gift_card for p in products)
    assert any(p.personalization_required for p in products)
    assert any(" / " in o.value for p in products for v in p.variants for o in v.options)
    shops = [json.loads(f.read_text()) for f in sorted((SAMPLE / "etsy").glob("*/shop.json"))]
    assert sum("ships_to_countries" in s for s in shops) == 1
    target = [p for p in products if p.title == "Classic Merino Wool Beanie"]
    red_m = [v for v in target[0].variants if v.option_map() == {"Color": "Red", "Size": "M"}]
    assert red_m[0].available and red_m[0].price == 3400 and red_m[0].currency == "USD"
    size = sum(f.stat().st_size for f in SAMPLE.rglob("*") if f.is_file())
    assert size < 2_000_000


def test_generator_is_deterministic(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(REPO / "data" / "generate_sample.py"), "--out", str(tmp_path)], check=True,
                   capture_output=True)
    committed = sorted(f.relative_to(SAMPLE) for f in SAMPLE.rglob("*.json"))
    assert committed == sorted(f.relative_to(tmp_path) for f in tmp_path.rglob("*.json"))
    assert all((SAMPLE / f).read_bytes() == (tmp_path / f).read_bytes() for f in committed)


def test_shared_catalog_serves() -> None:
    """The 11k-product evaluation catalog loads and serves (skipped where it is absent)."""
    if not SHARED_CATALOGS.is_dir():
        pytest.skip("shared catalogs not available")
    with running_storefront(SHARED_CATALOGS) as sf, httpx.Client(trust_env=False, timeout=30) as client:
        slug = sf.shopify_slugs[0]
        page = client.get(f"{sf.shopify_url(slug)}/products.json", params={"limit": 250})
        assert page.status_code == 200 and len(page.json()["products"]) > 0
        sid = next(iter(sf.etsy_shop_ids.values()))
        assert client.get(f"{sf.etsy_api}/shops/{sid}/listings/active", headers=ETSY_KEY).json()["count"] > 0
