"""End-to-end crawls through the storefront simulator into a real DuckDB file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from indexer.crawl.parse import etsy_merchant, etsy_product, shopify_merchant, shopify_product
from indexer.crawl.run import CrawlSettings, crawl
from indexer.crawl.targets import Target
from indexer.errors import ConfigError
from indexer.store.store import Store
from indexer.storefront import running_storefront
from tests.indexer.crawl_helpers import all_targets, expected_counts, fast_settings, make_catalog

FAULTS = "429=0.05,500=0.03,timeout=0.02,truncate=0.02,html=0.01,dup=0.02"
# Simulator fault kind -> the client's retry kind.
KIND = {"429": "429", "500": "5xx", "timeout": "timeout", "truncate": "bad_json", "html": "html", "dup": "dup"}


def expected_variants(catalog: Path) -> int:
    """Variants of every product a crawl must find, parsed straight from the files.

    The crawl here connects no Etsy shop, so Etsy listings are read as the public API gives them: listing level,
    no inventory (issue 13: inventory is owner-only).
    """
    n = 0
    for d in (catalog / "shopify").glob("*"):
        m = shopify_merchant(json.loads((d / "meta.json").read_text()), "http://x")
        n += sum(len(getattr(shopify_product(p, m), "variants", ()))
                 for p in json.loads((d / "products.json").read_text())["products"])
    for d in (catalog / "etsy").glob("*"):
        m = etsy_merchant(json.loads((d / "shop.json").read_text()), "http://x")
        for x in json.loads((d / "listings.json").read_text())["results"]:
            if x["state"] == "active":
                n += len(getattr(etsy_product(x, None, m), "variants", ()))
    return n


def per_merchant(store: Store) -> dict[str, int]:
    return dict(store.query("SELECT merchant_id, count(*) FROM products WHERE removed_at IS NULL GROUP BY 1"))


@pytest.mark.slow
def test_all_shared_catalogs_through_faults_land_exactly_once(shared_dir: Path, tmp_path: Path) -> None:
    catalog = shared_dir / "catalogs"
    with running_storefront(catalog, faults=FAULTS, seed=7, slow_seconds=3.0, retry_after=0.05) as sf:
        with Store.open(tmp_path / "catalog.duckdb") as store:
            report = crawl(all_targets(sf), store, settings=fast_settings(sf, timeout=1.0, retries=8))
            injected = sf.fault_stats()["counts"]
            assert report.complete, [m for m in report.merchants if not m.complete]
            assert per_merchant(store) == expected_counts(catalog)
            assert store.query("SELECT count(*) = count(DISTINCT doc_id) FROM products") == [(True,)]
            stats = store.stats()
            assert stats["products"] == sum(expected_counts(catalog).values()) == report.products
            assert stats["variants"] == expected_variants(catalog)
            recorded = store.query("SELECT count(*) FROM crawl_errors")[0][0]
            assert store.query("SELECT status FROM crawl_runs") == [("complete",)]
    # Every injected fault was retried away or recorded (a loaded machine may add slow answers of its own).
    assert sum(injected.values()) > 0
    for kind, n in injected.items():
        seen = report.retried.get(KIND[kind], 0) + report.failed.get(KIND[kind], 0)
        assert seen >= n if kind == "timeout" else seen == n, (kind, n, report.retried, report.failed)
    assert recorded == sum(report.failed.values()) == 0


def test_the_page_cap_is_crawled_through_collections(shared_dir: Path, tmp_path: Path) -> None:
    catalog = make_catalog(tmp_path / "cat", shared_dir, shopify=("ecs-coffee", "analemma"))
    with running_storefront(catalog, page_cap=500) as sf, Store.open(tmp_path / "c.duckdb") as store:
        report = crawl(all_targets(sf), store, settings=fast_settings(sf))
        assert report.complete
        assert per_merchant(store) == expected_counts(catalog)  # ecs-coffee has 950 products
        assert report.requests > 10


def test_incremental_recrawl_updates_exactly_the_changed_rows(shared_dir: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    catalog = make_catalog(tmp_path / "cat", shared_dir, shopify=("analemma", "earth-revibe"), etsy=("kalima-arts",))
    shop_a = json.loads((catalog / "shopify/analemma/products.json").read_text())["products"]
    shop_b = json.loads((catalog / "shopify/earth-revibe/products.json").read_text())["products"]
    listing = json.loads((catalog / "etsy/kalima-arts/listings.json").read_text())["results"][0]
    with running_storefront(catalog) as sf, Store.open(tmp_path / "c.duckdb") as store:
        first = crawl(all_targets(sf), store, settings=fast_settings(sf))
        assert first.complete and first.products == sum(expected_counts(catalog).values())
        before = dict(store.query("SELECT doc_id, change_seq FROM products"))
        mark = store.watermark()

        priced, sold_out, gone = shop_a[0], shop_b[1], shop_a[2]
        sf.set_price("shopify", "analemma", priced["id"], priced["variants"][0]["id"], "99.50")
        sf.set_available("shopify", "earth-revibe", sold_out["id"], None, False)
        sf.remove_product("shopify", "analemma", gone["id"])
        added = sf.add_product("shopify", "earth-revibe", {"title": "Bamboo Toothbrush Set", "variants": [
            {"title": "Pack of 4", "option1": "Pack of 4", "price": "12.00"}]})
        sf.set_price("etsy", "kalima-arts", listing["listing_id"], None, "77.00")

        second = crawl(all_targets(sf), store, settings=fast_settings(sf))
        assert second.complete
        got = {m.name: (m.new, m.changed, m.removed, m.unchanged) for m in second.merchants}
        names = {m.name: m for m in store.merchants()}
        assert got[next(n for n in names if names[n].merchant_id.startswith("analemma"))] == (0, 1, 1, len(shop_a) - 2)
        assert got[next(n for n in names if names[n].merchant_id.startswith("earth-revibe"))] == (
            1, 1, 0, len(shop_b) - 1)
        assert got[next(n for n in names if names[n].platform == "etsy")] == (0, 1, 0, 20)

        after = dict(store.query("SELECT doc_id, change_seq FROM products"))
        changed = {d for d in after if before.get(d) != after[d]}
        dom_a = next(m.merchant_id for m in names.values() if m.merchant_id.startswith("analemma"))
        dom_b = next(m.merchant_id for m in names.values() if m.merchant_id.startswith("earth-revibe"))
        sid = next(m.merchant_id for m in names.values() if m.platform == "etsy")
        assert changed == {f"shopify:{dom_a}:{priced['id']}", f"shopify:{dom_b}:{sold_out['id']}",
                           f"shopify:{dom_a}:{gone['id']}", f"shopify:{dom_b}:{added['id']}",
                           f"etsy:{sid}:{listing['listing_id']}"}
        assert store.watermark() != mark

        hist = store.query("SELECT doc_id, field, old, new FROM history ORDER BY doc_id, variant_id")
        assert (f"shopify:{dom_a}:{priced['id']}", "price", str(round(float(priced['variants'][0]['price']) * 100)),
                "9950") in hist
        assert [h[1:] for h in hist if h[0] == f"shopify:{dom_b}:{sold_out['id']}"] == [
            ("available", "true", "false")] * len(sold_out["variants"])
        assert [h[1:] for h in hist if h[0] == f"shopify:{dom_a}:{gone['id']}"] == [("product", "present", "removed")]
        assert {h[1] for h in hist if h[0].startswith("etsy:")} == {"price"}
        assert {p.product_id for p in store.products(merchant_id=dom_a)} == {
            str(p["id"]) for p in shop_a if p["id"] != gone["id"]}
        assert store.product(f"shopify:{dom_b}:{added['id']}") is not None
        assert store.stats()["removed_products"] == 1

        parsed: list[object] = []
        import indexer.crawl.etsy
        import indexer.crawl.shopify

        for mod, name in ((indexer.crawl.shopify, "shopify_product"), (indexer.crawl.etsy, "etsy_product")):
            def counting(*a: object, _real: Any = getattr(mod, name)) -> Any:
                parsed.append(a)
                return _real(*a)

            monkeypatch.setattr(mod, name, counting)
        third = crawl(all_targets(sf), store, settings=fast_settings(sf))  # nothing changed since
        assert all(m.new == m.changed == m.removed == 0 for m in third.merchants)
        assert parsed == []  # byte-identical records are recognised by hash, not parsed again
        assert dict(store.query("SELECT doc_id, change_seq FROM products")) == after


@pytest.mark.parametrize(("faults", "code"), [("truncate=1.0", "bad_json"), ("html=1.0", "html"),
                                               ("500=1.0", "5xx"), ("429=1.0", "429")])
def test_malformed_answers_are_recorded_and_the_crawl_continues(shared_dir: Path, tmp_path: Path, faults: str,
                                                                code: str) -> None:
    good = make_catalog(tmp_path / "good", shared_dir, shopify=("analemma",))
    bad = make_catalog(tmp_path / "bad", shared_dir, shopify=("great-outdoor",), etsy=("kalima-arts",))
    with running_storefront(good) as ok_sf, running_storefront(bad, faults=faults, retry_after=0.01) as bad_sf, \
            Store.open(tmp_path / "c.duckdb") as store:
        targets = all_targets(ok_sf) + all_targets(bad_sf)
        report = crawl(targets, store, settings=fast_settings(ok_sf, etsy_api=bad_sf.etsy_api, retries=1))
        by_target = {m.target: m for m in report.merchants}
        assert by_target[ok_sf.shopify_url("analemma")].complete
        assert by_target[ok_sf.shopify_url("analemma")].products == 31
        for t in all_targets(bad_sf):
            assert not by_target[t.label].complete and by_target[t.label].errors == 1
        errors = store.query("SELECT target, url, code, error FROM crawl_errors ORDER BY target")
        assert [e[2] for e in errors] == [code, code]
        assert all(e[3] and "gave up after 2 attempts" in e[3] for e in errors)
        assert {e[0] for e in errors} == {t.label for t in all_targets(bad_sf)}
        assert store.query("SELECT status FROM crawl_runs") == [("partial",)]


def test_a_bad_record_is_quarantined_and_the_rest_stored(shared_dir: Path, tmp_path: Path) -> None:
    catalog = make_catalog(tmp_path / "cat", shared_dir, shopify=("analemma",))
    path = catalog / "shopify/analemma/products.json"
    data = json.loads(path.read_text())
    data["products"][3]["variants"][0]["price"] = "1e99"
    path.write_text(json.dumps(data))
    with running_storefront(catalog) as sf, Store.open(tmp_path / "c.duckdb") as store:
        report = crawl(all_targets(sf), store, settings=fast_settings(sf))
        (m,) = report.merchants
        assert m.complete and (m.products, m.quarantined) == (30, 1)
        assert store.query("SELECT record_id, reason FROM quarantine") == [
            (str(data["products"][3]["id"]), "absurd price '1e99'")]


def test_an_incomplete_crawl_never_marks_products_removed(shared_dir: Path, tmp_path: Path) -> None:
    catalog = make_catalog(tmp_path / "cat", shared_dir, shopify=("great-outdoor",))
    with running_storefront(catalog) as sf, Store.open(tmp_path / "c.duckdb") as store:
        assert crawl(all_targets(sf), store, settings=fast_settings(sf)).complete
        # Every later page fails: the crawl gets page 1 only and must not remove the other 28 products.
        sf.admin.set_faults("500=1.0")
        report = crawl(all_targets(sf), store, settings=fast_settings(sf, retries=0, shopify_limit=10))
        assert not report.complete and report.merchants[0].removed == 0
        assert store.stats()["products"] == 38 and store.stats()["removed_products"] == 0


def test_etsy_without_a_key_is_a_config_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AISLE_ETSY_API_KEY", "key:secret")  # the library never reads it: settings pass it
    with Store.open(tmp_path / "c.duckdb") as store:
        with pytest.raises(ConfigError, match="AISLE_ETSY_API_KEY"):
            crawl([Target.etsy("123")], store, settings=CrawlSettings())
        with pytest.raises(ConfigError, match="keystring:shared_secret"):
            crawl([Target.etsy("123")], store, settings=CrawlSettings(etsy_api_key="nosecret"))
        with pytest.raises(ConfigError, match="nothing to crawl"):
            crawl([], store, settings=CrawlSettings())
