"""Embedding throughput: the local encoder against the Ray Data pipeline with 1 and 2 workers (same run).

Called by ``python benchmarks/ray.py embed [--products N] [--workers 1 2]``. Texts are the product texts
(:func:`indexer.build.text.product_text`) of the first ``N`` products of the shared catalogs' snapshot
(``/work/bench-home``, built by ``benchmarks/_shared_index.py``), the model the bundled all-MiniLM-L6-v2 on CPU.
A Ray run includes what a build pays per pipeline run: the actors' start and model load. The overhead per
product is ``(Ray seconds - local seconds) / N`` at 1 worker: on a machine with more cores than the local
encoder uses, the workers add throughput; on this shared 2-core machine they cannot.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any


def _texts(n: int, home: Path) -> list[str]:
    from benchmarks._shared_index import shared_snapshot
    from indexer.build.text import product_text

    snap = shared_snapshot(home)
    return [product_text(p) for p in snap.products[:n]]


def embed_benchmark(n: int, workers: list[int], home: Path = Path("/work/bench-home")) -> dict[str, Any]:
    """Products/s locally and through Ray Data with each worker count; the Ray overhead per product."""
    import ray

    from indexer.build.embed import load_encoder
    from indexer.build.ray_embed import RayDataEncoder

    texts = _texts(n, home)
    local = load_encoder(None, "cpu")
    local.encode(texts[:64])  # warm-up
    t = time.perf_counter()
    local.encode(texts, batch_size=64)
    local_s = time.perf_counter() - t
    out: dict[str, Any] = {"products": len(texts), "local": {"seconds": round(local_s, 2),
                                                             "products_per_s": round(len(texts) / local_s, 1)}}
    print(out, flush=True)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        for w in workers:
            enc = RayDataEncoder(None, "cpu", workers=w)
            t = time.perf_counter()
            enc.encode(texts)
            s = time.perf_counter() - t
            out[f"ray_{w}"] = {"seconds": round(s, 2), "products_per_s": round(len(texts) / s, 1),
                               "overhead_ms_per_product": round((s - local_s) * 1000.0 / len(texts), 3)}
            print({w: out[f"ray_{w}"]}, flush=True)
    finally:
        ray.shutdown()
    return out
