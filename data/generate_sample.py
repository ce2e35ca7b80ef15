#!/usr/bin/env python3
"""Generate aisle's bundled sample catalog (data/sample/) deterministically. Standard library only.

    python data/generate_sample.py            # rewrites data/sample/ (same bytes every run)
    python data/generate_sample.py --out DIR  # writes elsewhere

Every product is invented here: six Shopify stores (USD, CAD, GBP, EUR x2, JPY) and two Etsy shops
(USD, GBP), in the layout of a crawled catalog directory (see data/README.md). Hand-written products
cover the demo queries and their near misses; the rest come from per-store product lines drawn with a
seeded random generator (one generator per store, so editing one store leaves the others unchanged).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # sample_kit and sample_stores live next to this script

from sample_kit import EtsyShopGen, Store  # noqa: E402
from sample_stores import SHOPS, STORES  # noqa: E402


def _write(path: Path, obj: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "sample")
    out: Path = parser.parse_args().out
    for sub in ("shopify", "etsy"):
        shutil.rmtree(out / sub, ignore_errors=True)
    total = 0
    for args, fill in STORES:
        store = Store(*args)
        fill(store)
        _write(out / "shopify" / store.slug / "products.json", {"products": store.products})
        _write(out / "shopify" / store.slug / "meta.json", store.meta())
        total += len(store.products)
        print(f"shopify/{store.slug}: {len(store.products)} products")
    for shop_args, fill_shop in SHOPS:
        shop = EtsyShopGen(*shop_args)
        fill_shop(shop)
        shop.shop["listing_active_count"] = sum(1 for x in shop.listings if x["state"] == "active")
        _write(out / "etsy" / shop.slug / "shop.json", shop.shop)
        _write(out / "etsy" / shop.slug / "listings.json", {"count": len(shop.listings), "results": shop.listings})
        for lid, inv in shop.inventories.items():
            _write(out / "etsy" / shop.slug / "inventory" / f"{lid}.json", inv)
        total += len(shop.listings)
        print(f"etsy/{shop.slug}: {len(shop.listings)} listings")
    print(f"{total} products in all -> {out}")


if __name__ == "__main__":
    main()
