"""``python benchmarks/ray.py crawl-sink``: is the distributed crawl's one DuckDB sink actor the limit?

Starts the storefront simulator (``aisle storefront``, its own process) over ``--catalog`` (default: the shared
catalogs), then in the same run: a local crawl (``indexer.crawl.run.crawl``) into a fresh DuckDB file, and
``crawl_ray`` with 1 and 2 tasks on a local Ray cluster (``num_cpus=2``) into fresh files, politeness off.
For each Ray run: wall seconds, products/s, and the sink's own time inside the store per method
(``StoreSink.timings``: calls, seconds; Ray's argument transfer is not inside), hence the sink's busy fraction
of the wall time and the products/s the sink absorbs (products / seconds inside ``write_prepared``), each
with the default sink (``store``) and with the Parquet sink (``parquet``: tasks stage, the sink merges each
merchant once sealed; its absorb rate is products / seconds of the merges, ``writer_s``).
A sink that is busy most of the wall time is the limit; one that idles is not.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any


def _targets_settings(info: dict[str, Any]) -> tuple[list[Any], Any]:
    from indexer.crawl.run import CrawlSettings
    from indexer.crawl.targets import Target

    targets = [Target.shopify(u) for u in info["shopify"].values()] + [
        Target.etsy(i) for i in info["etsy_shop_ids"].values()]
    settings = CrawlSettings(delay=0.0, per_host=8, timeout=30.0, etsy_api=info["etsy_api"],
                             etsy_api_key="bench:secret", allow_hosts=("127.0.0.1",))
    return targets, settings


def _ray_run(targets: list[Any], settings: Any, db: Path, workers: int, sink: str) -> dict[str, Any]:
    from indexer.crawl.ray_crawl import crawl_ray

    got: dict[str, list[float]] = {}
    t0 = time.perf_counter()
    report = crawl_ray(targets, db, settings=settings, workers=workers, sink=sink, sink_timings=got.update)
    wall = time.perf_counter() - t0
    busy = sum(s for _, s in got.values())
    write_s = got.get("write_prepared", [0, 0.0])[1] + sum(got.get(k, [0, 0.0])[1] for k in ("merge", "merge_rest"))
    pages = int(got.get("write_prepared", [0, 0.0])[0])  # parquet: the merge writes them, not counted per call
    return {"workers": workers, "sink": sink, "products": report.products, "complete": report.complete,
            "wall_s": round(wall, 2), "writer_s": round(write_s, 2),
            "products_per_s": round(report.products / wall), "pages": pages,
            "sink_busy_s": round(busy, 2), "sink_busy_fraction": round(busy / wall, 3),
            "sink_write_ms_per_page": round(1000 * write_s / pages, 2) if pages else None,
            "sink_absorbs_products_per_s": round(report.products / write_s) if write_s else None,
            "sink_calls": {k: [int(n), round(s, 3)] for k, (n, s) in sorted(got.items())}}


def crawl_sink(catalog: Path, workers: list[int]) -> dict[str, Any]:
    """Local crawl vs Ray crawl with 1..n tasks over the simulator, the sink's time measured (module docstring)."""
    from benchmarks.crawl import start_storefront
    from indexer.build.ray_embed import ray_module
    from indexer.crawl.run import crawl
    from indexer.store.store import Store

    proc, info = start_storefront(catalog)
    out: dict[str, Any] = {"catalog": str(catalog)}
    try:
        targets, settings = _targets_settings(info)
        ray = ray_module(None, num_cpus=2)
        with tempfile.TemporaryDirectory(prefix="aisle-sink-") as tmp:
            t0 = time.perf_counter()
            with Store.open(Path(tmp) / "local.duckdb") as store:
                local = crawl(targets, store, settings=settings)
            wall = time.perf_counter() - t0
            out["local"] = {"products": local.products, "wall_s": round(wall, 2),
                            "products_per_s": round(local.products / wall)}
            print(out["local"], flush=True)
            for w in workers:
                for sink in ("store", "parquet"):
                    (Path(tmp) / sink).mkdir(exist_ok=True)  # each run its own workspace (parquet stages beside)
                    out[f"ray_{w}_{sink}"] = _ray_run(targets, settings, Path(tmp) / sink / f"ray{w}.duckdb", w, sink)
                    print(out[f"ray_{w}_{sink}"], flush=True)
        ray.shutdown()
    finally:
        proc.terminate()
        proc.wait()
    return out
