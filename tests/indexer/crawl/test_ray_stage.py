"""The distributed crawl's Parquet sink on a real local Ray cluster against the loopback storefront simulator:
staged per merchant, merged by one writer, the store ends as after a local crawl (modulo timestamps), a second
(incremental) crawl too; staging is gone after the merge, and a crash's sealed leftovers are merged next time."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from indexer.crawl.run import crawl
from indexer.crawl.targets import Target
from indexer.store.store import Store
from indexer.storefront import running_storefront
from tests.indexer.crawl_helpers import all_targets, fast_settings

ray = pytest.importorskip("ray")

TABLES = {
    "products": "SELECT * EXCLUDE (first_seen, last_seen, changed_at, removed_at, last_run_id, change_seq), "
                "removed_at IS NULL FROM products ORDER BY doc_id",
    "variants": "SELECT * FROM variants ORDER BY doc_id, variant_id",
    "options": "SELECT * FROM options ORDER BY doc_id, position",
    "variant_options": "SELECT * FROM variant_options ORDER BY doc_id, variant_id, position",
    "images": "SELECT * FROM images ORDER BY doc_id, position",
    "merchants": "SELECT * EXCLUDE (first_seen, last_seen) FROM merchants ORDER BY merchant_id",
    "quarantine": "SELECT merchant_id, record_id, reason, raw FROM quarantine ORDER BY ALL",
    "history": "SELECT doc_id, variant_id, field, old, new FROM history ORDER BY ALL",
    "faults": "SELECT merchant_id, target, url, status, code FROM crawl_errors ORDER BY ALL",
    "merchant_crawls": "SELECT merchant_id, target, platform, complete, products, new, changed, unchanged, removed, "
                       "quarantined, errors FROM merchant_crawls ORDER BY ALL",
    "runs": "SELECT status, count(*) FROM crawl_runs GROUP BY ALL ORDER BY ALL",
}


def _tables(db: Path) -> dict[str, Any]:
    with Store.open(db, read_only=True) as store:
        return {k: store.query(q) for k, q in TABLES.items()}


def test_the_parquet_sink_leaves_the_store_a_local_crawl_does(ray_cluster: Any, sample_dir: Path,
                                                              tmp_path: Path) -> None:
    from indexer.crawl.ray_crawl import crawl_ray

    catalog = shutil.copytree(sample_dir, tmp_path / "cat")  # the simulator's changes stay in this copy
    slug = sorted(p.name for p in (catalog / "shopify").iterdir())[0]
    shop = json.loads((catalog / "shopify" / slug / "products.json").read_text())["products"]
    with running_storefront(catalog) as sf:
        targets = all_targets(sf) + [Target.shopify(sf.shopify_url("no-such-store"))]
        settings = fast_settings(sf)
        for round_ in range(2):  # a full crawl, then an incremental one over the filled store, after changes
            if round_:
                sf.set_price("shopify", slug, shop[0]["id"], shop[0]["variants"][0]["id"], "99.50")
                sf.set_available("shopify", slug, shop[1]["id"], None, False)
                sf.remove_product("shopify", slug, shop[2]["id"])
                sf.add_product("shopify", slug, {"title": "Bamboo Toothbrush Set", "variants": [
                    {"title": "Pack of 4", "option1": "Pack of 4", "price": "12.00"}]})
            with Store.open(tmp_path / "local.duckdb") as store:
                local = crawl(targets, store, settings=settings)
            timings: dict[str, list[float]] = {}
            report = crawl_ray(targets, tmp_path / "ray.duckdb", settings=settings, workers=2, sink="parquet",
                               sink_timings=timings.update)
            assert timings["merge"][0] > 0  # merchants merged while the crawl went on
            assert [(m.target, m.products, m.new, m.changed, m.unchanged, m.removed, m.complete)
                    for m in report.merchants] == [(m.target, m.products, m.new, m.changed, m.unchanged, m.removed,
                                                    m.complete) for m in local.merchants]
            assert _tables(tmp_path / "ray.duckdb") == _tables(tmp_path / "local.duckdb")
            assert not any((tmp_path / "crawl-staging").iterdir())  # merged, then removed
    got = _tables(tmp_path / "ray.duckdb")
    assert got["runs"] == [("partial", 2)] and len(got["history"]) >= 4 and got["faults"]
    assert any(m[8] == 1 for m in got["merchant_crawls"])  # the removed product was counted by the merge


def test_a_crashed_runs_sealed_merchants_are_merged_by_the_next_run(ray_cluster: Any, sample_dir: Path,
                                                                   tmp_path: Path) -> None:
    from indexer.crawl import shopify as shopify_mod
    from indexer.crawl.parse import shopify_merchant
    from indexer.crawl.ray_crawl import StoreSink, crawl_ray
    from indexer.crawl.ray_stage import StagingStore
    from indexer.store.rows import prepare_page

    db, staging = tmp_path / "ray.duckdb", tmp_path / "crawl-staging"
    slug = sorted(p.name for p in (sample_dir / "shopify").iterdir())[0]
    with running_storefront(sample_dir) as sf:
        target = Target.shopify(sf.shopify_url(slug))
        merchant = shopify_merchant(json.loads((sample_dir / "shopify" / slug / "meta.json").read_text()), target.ref)
        records = json.loads((sample_dir / "shopify" / slug / "products.json").read_text())["products"][:5]
        sink = ray.remote(StoreSink).remote(str(db))  # a run that staged one merchant, then died before its merge
        run_id = ray.get(sink.call.remote("begin_run", [target.label], {}))
        staged = StagingStore(sink, str(staging), merge_eagerly=False)
        assert staged.claim_for_run(target, merchant) is None
        items, bad, _ = shopify_mod.parse_page(merchant, records)
        staged.write_prepared(run_id, prepare_page(merchant, items, bad), merchant_raw={"name": merchant.name})
        staged.finish_merchant(run_id, target.label, merchant, complete=False, started_at=staged.now(), counts={})
        (staging / run_id / "m-unsealed").mkdir()  # a merchant cut off mid-crawl: discarded
        ray.get(sink.close.remote())
        ray.kill(sink)
        assert (staging / run_id).is_dir()
        crawl_ray([target], db, settings=fast_settings(sf), workers=1, sink="parquet")
    assert not any(staging.iterdir())
    with Store.open(db, read_only=True) as store:
        assert store.query("SELECT products, new FROM merchant_crawls WHERE run_id = ?", [run_id]) == [(5, 5)]
        assert store.query("SELECT count(*) FROM crawl_runs") == [(2,)]


def test_the_command_line_takes_the_parquet_sink(sample_dir: Path, tmp_path: Path) -> None:
    from tests.cli.test_crawl import aisle

    bad = aisle(tmp_path, "crawl", "--ray", "--ray-sink", "csv", "--shopify", "http://127.0.0.1:9/shopify/x")
    assert bad.returncode != 0 and "--ray-sink must be store or parquet" in bad.stderr + bad.stdout
    with running_storefront(sample_dir) as sf:
        res = aisle(tmp_path, "crawl", "--ray", "--ray-sink", "parquet", "--ray-workers", "1", "--allow-host",
                    "127.0.0.1", "--delay", "0", "--shopify", sf.shopify_url("thames-pottery"), "--json")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["complete"] and doc["products"] == doc["merchants"][0]["new"] > 0
