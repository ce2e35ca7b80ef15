"""The distributed crawl on a real local Ray cluster against the loopback storefront simulator: the store ends as
after a local crawl (same products, variants, merchants, one run), faults recorded per host."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from indexer.crawl.run import crawl
from indexer.crawl.targets import Target
from indexer.store.store import Store
from indexer.storefront import running_storefront
from tests.indexer.crawl_helpers import all_targets, fast_settings

ray = pytest.importorskip("ray")

TABLES = {"products": "SELECT doc_id, merchant_id, title, removed_at IS NULL FROM products ORDER BY 1",
          "variants": "SELECT count(*) FROM variants",
          "merchants": "SELECT merchant_id, platform, name FROM merchants ORDER BY 1",
          "runs": "SELECT count(*), min(status) FROM crawl_runs"}


def test_host_groups_keep_a_host_on_one_task() -> None:
    from indexer.crawl.ray_crawl import host_groups

    ts = [Target.shopify(f"http://127.0.0.1:9/shopify/s{i}") for i in range(3)] + \
         [Target.shopify("http://a.test"), Target.etsy("1"), Target.etsy("2")]
    groups = host_groups(ts, fast_settings(type("S", (), {"etsy_api": "http://e.test/v3"})()), 2)
    assert len(groups) == 2 and sorted(len(g) for g in groups) == [3, 3]
    assert any(all("127.0.0.1" in t.ref for t in g) and len(g) == 3 for g in groups)


def test_a_ray_crawl_leaves_the_store_a_local_crawl_does(ray_cluster: Any, sample_dir: Path, tmp_path: Path) -> None:
    from indexer.crawl.ray_crawl import crawl_ray

    with running_storefront(sample_dir, faults="500=0.05", seed=3, retry_after=0.01) as sf:
        targets = all_targets(sf) + [Target.shopify(sf.shopify_url("no-such-store"))]
        settings = fast_settings(sf, retries=6)
        with Store.open(tmp_path / "local.duckdb") as store:
            local = crawl(targets, store, settings=settings)
            want = {k: store.query(q) for k, q in TABLES.items()}
        timings: dict[str, list[float]] = {}
        report = crawl_ray(targets, tmp_path / "ray.duckdb", settings=settings, workers=2, sink_timings=timings.update)
    assert [m.target for m in report.merchants] == [m.target for m in local.merchants]
    assert [(m.products, m.complete) for m in report.merchants] == [(m.products, m.complete) for m in local.merchants]
    with Store.open(tmp_path / "ray.duckdb", read_only=True) as store:
        assert {k: store.query(q) for k, q in TABLES.items()} == want
        errors = store.query("SELECT target, code FROM crawl_errors WHERE target LIKE '%no-such-store%'")
    assert errors and not report.complete and want["runs"] == [(1, "partial")]
    assert timings["write_prepared"][0] > 0 and timings["finish_merchant"][0] == len(targets)
