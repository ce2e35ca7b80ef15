"""End to end: storefront simulator → crawl → DuckDB → index (real model) → change the shop → re-crawl →
re-index: exactly the changed products are embedded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from indexer.build.index import index_workspace
from indexer.build.snapshot import load_current
from indexer.build.text import product_text
from indexer.crawl.run import CrawlSettings, crawl
from indexer.crawl.targets import Target
from indexer.store.store import Store
from indexer.storefront import running_storefront
from indexer.workspace import Workspace

SHOPIFY, ETSY = "analemma", "kalima-arts"


@pytest.fixture()
def catalog_dir(tmp_path: Path, shared_dir: Path) -> Path:
    """Two real shared catalogs (52 products), linked read-only into a simulator catalog folder."""
    root = tmp_path / "catalog"
    for platform, slug in (("shopify", SHOPIFY), ("etsy", ETSY)):
        (root / platform).mkdir(parents=True)
        (root / platform / slug).symlink_to(shared_dir / "catalogs" / platform / slug, target_is_directory=True)
    return root


def _crawl(ws: Workspace, sf) -> None:
    targets = [Target.shopify(sf.shopify_url(SHOPIFY)), Target.etsy(sf.etsy_shop_ids[ETSY])]
    settings = CrawlSettings(delay=0.0, retries=1, etsy_api=sf.etsy_api, etsy_api_key="test:secret",
                             allow_hosts=("127.0.0.1",))
    with Store.open(ws.catalog_db) as store:
        report = crawl(targets, store, settings=settings)
    assert report.complete, report.to_dict()


@pytest.mark.slow
def test_recrawl_reindex_embeds_exactly_the_changed_products(tmp_path: Path, catalog_dir: Path, real_encoder) -> None:
    ws = Workspace.resolve(tmp_path / "home")
    with running_storefront(catalog_dir) as sf:
        _crawl(ws, sf)
        first = index_workspace(ws, device="cpu")
        assert first.status == "built" and first.embedded == first.products > 40
        snap = load_current(ws)
        _, ids = snap.dense.search(real_encoder.encode([snap.products[3].title]), 3)
        assert 3 in ids[0].tolist()  # search-ready with the real model

        shop = json.loads((catalog_dir / "shopify" / SHOPIFY / "products.json").read_text())["products"]
        edited, removed, repriced = shop[0], shop[1], shop[2]
        # Edit a title (remove + add back under the same id), remove one, add two, change a price.
        sf.remove_product("shopify", SHOPIFY, edited["id"])
        sf.add_product("shopify", SHOPIFY, {**edited, "title": edited["title"] + " Deluxe", "handle": None})
        sf.remove_product("shopify", SHOPIFY, removed["id"])
        for title in ("Handwoven rattan lampshade", "Linen table runner"):
            sf.add_product("shopify", SHOPIFY, {"title": title, "body_html": f"<p>{title}, made to order.</p>",
                                                "variants": [{"price": "45.00"}]})
        sf.set_price("shopify", SHOPIFY, repriced["id"], repriced["variants"][0]["id"], "1.23")
        _crawl(ws, sf)

    second = index_workspace(ws, device="cpu")
    assert second.status == "built"
    # The edited title and the two new products: 3 texts embedded; the repriced one reuses its vector.
    assert (second.embedded, second.added, second.changed, second.removed) == (3, 2, 1, 1)
    assert second.reused == second.products - 3 and second.products == first.products + 1
    snap = load_current(ws)
    doc = next(p for p in snap.products if p.product_id == str(edited["id"]))
    assert doc.title.endswith("Deluxe")
    row = snap.row_of(doc.doc_id)
    assert row is not None
    assert float(real_encoder.encode([product_text(doc)])[0] @ snap.vectors[row]) > 0.999
    repriced_doc = next(p for p in snap.products if p.product_id == str(repriced["id"]))
    assert repriced_doc.variants[0].price == 123
    assert all(p.product_id != str(removed["id"]) for p in snap.products)
    rows, _ = snap.lexical.search("rattan lampshade", 1)
    assert snap.products[int(rows[0])].title == "Handwoven rattan lampshade"
    assert index_workspace(ws, device="cpu").status == "unchanged"
