"""kill -9 in the middle of `aisle crawl`, then crawl again: a consistent database and a complete result."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from indexer.crawl.parse import shopify_merchant, shopify_product
from indexer.store.store import Store
from indexer.storefront import running_storefront
from tests.indexer.crawl_helpers import all_targets, fast_settings, make_catalog

STORES = ("1clickblinds", "ecs-coffee", "once-loved-treasures", "usdepots", "vietjewelers", "spacire")


def variants_by_doc(catalog: Path) -> dict[str, int]:
    out = {}
    for d in (catalog / "shopify").glob("*"):
        m = shopify_merchant(json.loads((d / "meta.json").read_text()), "http://x")
        for raw in json.loads((d / "products.json").read_text())["products"]:
            p = shopify_product(raw, m)
            out[p.doc_id] = len(p.variants)  # type: ignore[union-attr]
    return out


def test_kill_9_mid_crawl_then_crawl_again(shared_dir: Path, tmp_path: Path) -> None:
    catalog = make_catalog(tmp_path / "cat", shared_dir, shopify=STORES)
    expected = variants_by_doc(catalog)
    home = tmp_path / "home"
    db = home / "catalog.duckdb"
    with running_storefront(catalog) as sf:
        cmd = [sys.executable, "-c", "from cli.main import run; run()", "--home", str(home), "crawl",
               "--allow-host", "127.0.0.1", "--delay", "0.05", "--concurrency", "3", "--json"]
        for t in all_targets(sf):
            cmd += ["--shopify", t.ref]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wal = Path(str(db) + ".wal")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if wal.exists() and wal.stat().st_size > 3_000_000:  # several pages committed
                break
            time.sleep(0.02)
        assert proc.poll() is None, f"the crawl ended before it could be killed: {proc.communicate()[1]!r}"
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait() == -signal.SIGKILL

        with Store.open(db) as store:  # opening replays the write-ahead log
            got = dict(store.query("SELECT p.doc_id, count(v.variant_id) FROM products p "
                                   "LEFT JOIN variants v USING (doc_id) GROUP BY 1"))
            assert 0 < len(got) < len(expected)
            # Only whole pages were committed: every stored product has exactly its variants.
            assert all(got[d] == expected[d] for d in got)
            assert store.query("SELECT count(*) FROM variants WHERE doc_id NOT IN (SELECT doc_id FROM products)") == [
                (0,)]
            assert store.query("SELECT status FROM crawl_runs") == [("aborted",)]
            assert store.query("SELECT count(*) FROM products WHERE removed_at IS NOT NULL") == [(0,)]

            from indexer.crawl.run import crawl

            report = crawl(all_targets(sf), store, settings=fast_settings(sf))
            # usdepots (617 products, no product types) is complete here: the page cap is the default 25,000.
            assert report.complete
            assert sum(m.unchanged for m in report.merchants) == len(got)
            assert sum(m.new for m in report.merchants) == len(expected) - len(got)
            final = dict(store.query("SELECT p.doc_id, count(v.variant_id) FROM products p "
                                     "LEFT JOIN variants v USING (doc_id) GROUP BY 1"))
            assert final == expected
            assert store.query("SELECT count(*) = count(DISTINCT doc_id) FROM products") == [(True,)]
            assert [r[0] for r in store.query("SELECT status FROM crawl_runs ORDER BY started_at")] == [
                "aborted", "complete"]
