"""Crawl throughput: products/s ingested from the storefront simulator vs parse + store from disk.

    python benchmarks/crawl.py [--catalog ../shared/catalogs] [--repeat 3] [--json]

Runs, in this process, three measurements over the same catalog (default: the shared catalogs,
11,046 products in 45 stores), each into a fresh DuckDB file in a temporary directory:

* ``baseline``: the same JSON read from disk (no HTTP), split in pages as the crawler sees them
  (250 Shopify products, 100 Etsy listings + their inventories), parsed and stored page by page;
* ``crawl``: ``indexer.crawl.run.crawl`` against ``aisle storefront`` running in a separate process
  (like a real remote store), politeness off (``--delay 0``), no faults;
* ``recrawl``: the same crawl again over the filled catalog (nothing changed, nothing rewritten).

Prints products/s for each (best wall time of ``--repeat``), products per CPU second of this process
(the simulator's own CPU is not counted; on a shared machine this figure moves less than wall time),
and the crawl/baseline ratios. Never imported by the package.
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from indexer.crawl import etsy as etsy_mod
from indexer.crawl import shopify as shopify_mod
from indexer.crawl.parse import etsy_merchant, shopify_merchant
from indexer.crawl.run import CrawlSettings, crawl, fewer_gc_passes
from indexer.crawl.targets import Target
from indexer.store.store import Store

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CATALOG = REPO.parent / "shared" / "catalogs"


def load_pages(catalog: Path) -> list[tuple[Any, Any, str]]:
    """``(merchant, page records, platform)`` for every page, read from disk once (not timed)."""
    pages: list[tuple[Any, Any, str]] = []
    for d in sorted((catalog / "shopify").glob("*")):
        meta = json.loads((d / "meta.json").read_text())
        m = shopify_merchant(meta, f"http://disk/shopify/{d.name}")
        products = json.loads((d / "products.json").read_text())["products"]
        pages += [(m, products[i:i + 250], "shopify") for i in range(0, len(products), 250)]
    for d in sorted((catalog / "etsy").glob("*")):
        m = etsy_merchant(json.loads((d / "shop.json").read_text()), "http://disk/etsy/v3/application")
        listings = [x for x in json.loads((d / "listings.json").read_text())["results"] if x.get("state") == "active"]
        pairs = []
        for x in listings:
            inv = d / "inventory" / f"{x['listing_id']}.json"
            pairs.append((x, json.loads(inv.read_text()) if inv.exists() else None))
        pages += [(m, pairs[i:i + 100], "etsy") for i in range(0, len(pairs), 100)]
    return pages


def baseline(pages: list[tuple[Any, Any, str]], db: Path) -> tuple[int, float, float]:
    """Parse + store every page from memory; (products, wall seconds, CPU seconds of this process)."""
    n = 0
    t0, c0 = time.perf_counter(), time.process_time()
    with fewer_gc_passes(), Store.open(db) as store:  # the crawler's garbage-collector setting
        run = store.begin_run(["disk"], {})
        for m in {id(m): m for m, _, _ in pages}.values():
            store.upsert_merchant(m)
        for m, recs, platform in pages:
            items, bad, _ = (shopify_mod.parse_page(m, recs) if platform == "shopify"
                             else etsy_mod.parse_page(m, recs))
            n += store.write_page(run, m, items, bad).new
    return n, time.perf_counter() - t0, time.process_time() - c0


def start_storefront(catalog: Path) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    proc = subprocess.Popen([sys.executable, "-c", "from cli.main import run; run()", "storefront", "--catalog",
                             str(catalog), "--port", "0",
                             "--json"], stdout=subprocess.PIPE, text=True, cwd=REPO)
    assert proc.stdout is not None
    return proc, json.loads(proc.stdout.readline())


def crawl_once(info: dict[str, Any], db: Path) -> tuple[int, float, float, bool]:
    targets = [Target.shopify(u) for u in info["shopify"].values()] + [
        Target.etsy(i) for i in info["etsy_shop_ids"].values()]
    # Politeness off: no delay, and the simulator's one host may serve several requests at once (every
    # store lives on 127.0.0.1:PORT; real stores each have their own host).
    settings = CrawlSettings(delay=0.0, per_host=8, timeout=30.0, etsy_api=info["etsy_api"],
                             etsy_api_key="bench:secret", allow_hosts=("127.0.0.1",))
    t0, c0 = time.perf_counter(), time.process_time()
    with Store.open(db) as store:
        report = crawl(targets, store, settings=settings)
    return report.products, time.perf_counter() - t0, time.process_time() - c0, report.complete


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--catalog", type=Path, default=DEFAULT_CATALOG)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if not (args.catalog / "shopify").is_dir():
        sys.exit(f"no catalog at {args.catalog}")
    pages = load_pages(args.catalog)
    gc.freeze()  # the loaded pages are this script's, not a crawler's: keep them out of collections
    proc, info = start_storefront(args.catalog)
    runs: dict[str, list[tuple[int, float, float]]] = {"baseline": [], "crawl": [], "recrawl": []}
    try:
        for i in range(args.repeat):
            with tempfile.TemporaryDirectory() as tmp:
                runs["baseline"].append(baseline(pages, Path(tmp) / "disk.duckdb"))
                db = Path(tmp) / "crawl.duckdb"
                n, s, c, complete = crawl_once(info, db)
                assert complete, "the benchmark crawl was incomplete"
                runs["crawl"].append((n, s, c))
                n, s, c, _ = crawl_once(info, db)
                runs["recrawl"].append((n, s, c))
            print(f"round {i + 1}/{args.repeat} done", file=sys.stderr)
    finally:
        proc.terminate()
        proc.wait()
    best = {k: min(v, key=lambda r: r[1]) for k, v in runs.items()}  # fastest wall time of each
    cpu = {k: min(r[2] for r in v) for k, v in runs.items()}
    rate = {k: n / s for k, (n, s, _) in best.items()}
    cpu_rate = {k: best[k][0] / cpu[k] for k in best}
    doc = {"products": best["crawl"][0], "seconds": {k: round(s, 3) for k, (_, s, _) in best.items()},
           "products_per_s": {k: round(v) for k, v in rate.items()},
           "products_per_cpu_s": {k: round(v) for k, v in cpu_rate.items()},
           "crawl_vs_baseline": round(rate["crawl"] / rate["baseline"], 3),
           "recrawl_vs_baseline": round(rate["recrawl"] / rate["baseline"], 3),
           "crawl_vs_baseline_cpu": round(cpu_rate["crawl"] / cpu_rate["baseline"], 3)}
    if args.json:
        print(json.dumps(doc))
        return
    for k in ("baseline", "crawl", "recrawl"):
        n, s, _ = best[k]
        print(f"{k:<9} {n:>6} products in {s:6.2f} s = {rate[k]:6.0f} products/s "
              f"({cpu[k]:5.2f} CPU s = {cpu_rate[k]:5.0f} products per CPU second)")
    print(f"crawl / baseline = {doc['crawl_vs_baseline']:.2f} (wall), {doc['crawl_vs_baseline_cpu']:.2f} (CPU); "
          f"recrawl / baseline = {doc['recrawl_vs_baseline']:.2f}")


if __name__ == "__main__":
    main()
