"""Ray benchmarks: sharded answers equal the single snapshot's; scatter-gather latency; embedding throughput.

    python benchmarks/ray.py equal   [--home /work/bench-home] [--shards 2 4 8]
    python benchmarks/ray.py latency [--size 100000] [--shards 2 4 8] [--queries 100] [--no-ray]
    python benchmarks/ray.py embed   [--products 2000] [--workers 1 2]

* ``equal``: the shared catalogs' snapshot (``benchmarks/_shared_index.py``) and its shards; every dev and
  dev2 query in every mode (bm25, dense, hybrid), strict and with near matches: the top 10 (doc id, variant,
  exact flag) of the sharded engine (in-process shards) against the single snapshot. Prints the count of
  differing answers (0 expected) and the largest score difference.
* ``latency``: the synthetic scale-up of ``benchmarks/scale_aisle.py`` at ``--size`` products; p50/p95 of
  hybrid searches on the single snapshot, then with 2/4/8 shards in-process (the cost of the scatter-gather
  itself) and as Ray actors (plus the Ray calls), all in the same run. The machine is shared: compare
  figures of one run only.
* ``embed``: products/s of the local embedding against the Ray Data pipeline with 1 and 2 workers, in the
  same run, on the shared catalogs' products (see :mod:`indexer.build.ray_embed`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
# This file is named ray.py: take its folder off the path so that `import ray` (here and in Ray's workers,
# which inherit the driver's path) finds the library, not this script.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from indexer.build.shards import write_shards  # noqa: E402
from search.engine import Engine, EngineSettings  # noqa: E402
from search.schema import SearchRequest  # noqa: E402
from search.serve.sharded import ShardedEngine, local_connector  # noqa: E402

SHARED = REPO.parent / "shared"


def _queries() -> list[str]:
    out: list[str] = []
    for split in ("dev", "dev2"):
        f = SHARED / "eval" / split / "queries.jsonl"
        if f.exists():
            out += [json.loads(line)["query"] for line in f.read_text("utf-8").splitlines() if line.strip()]
    return out


def local_sharded(snapshot: Any, n: int, home: Path, **kw: Any) -> ShardedEngine:
    """A :class:`ShardedEngine` over ``n`` in-process shards of ``snapshot`` written under ``home``/shards."""
    write_shards(snapshot, n, home)
    return ShardedEngine(snapshot, connect=local_connector(home), **kw)


def _top(engine: Engine, req: SearchRequest) -> tuple[list[tuple[str, str, bool]], list[float]]:
    resp = engine.search(req)
    return [(r.doc_id, r.variant.id, r.match.exact) for r in resp.results], [r.score for r in resp.results]


def equal(home: Path, shards: list[int]) -> dict[str, Any]:
    """Compare every dev/dev2 query's top 10 in every mode, single snapshot against ``shards`` shard counts."""
    from benchmarks._shared_index import shared_snapshot
    from indexer.build.embed import load_encoder

    snap = shared_snapshot(home)
    settings = EngineSettings(stale_ttl_s=None)
    enc = load_encoder(snap.model)
    single = Engine(snap, encoder=enc, settings=settings)
    queries = _queries()
    reqs = [SearchRequest(query=q, mode=m, limit=10, include_near=near)  # type: ignore[arg-type]
            for q in queries for m in ("bm25", "dense", "hybrid") for near in (False, True)]
    truth = [_top(single, r) for r in reqs]
    out: dict[str, Any] = {"products": len(snap.products), "queries": len(queries), "requests": len(reqs)}
    with tempfile.TemporaryDirectory(prefix="aisle-shards-") as tmp:
        for n in shards:
            eng = local_sharded(snap, n, Path(tmp) / f"n{n}", encoder=enc, settings=settings)
            diff, worst = 0, 0.0
            for req, (ids, scores) in zip(reqs, truth, strict=True):
                got, got_scores = _top(eng, req)
                diff += got != ids
                if got == ids and scores:
                    worst = max(worst, float(np.max(np.abs(np.asarray(got_scores) - np.asarray(scores)))))
            out[f"shards_{n}"] = {"differing_top10": diff, "max_score_diff": worst}
            print(json.dumps({n: out[f"shards_{n}"]}), flush=True)
    return out


def _timed(engine: Engine, texts: list[str]) -> dict[str, float]:
    for t in texts:  # warm-up: every query's vector is then in the engine's cache, so the timings are the search
        engine.search(SearchRequest(query=t, limit=10))  # itself (retrieval, fusion, scatter-gather), not the encoder
    ms = []
    for t in texts:
        t0 = time.perf_counter()
        engine.search(SearchRequest(query=t, limit=10))
        ms.append((time.perf_counter() - t0) * 1000.0)
    return {"p50_ms": round(float(np.percentile(ms, 50)), 2), "p95_ms": round(float(np.percentile(ms, 95)), 2)}


def latency(size: int, shards: list[int], n_queries: int, use_ray: bool) -> dict[str, Any]:
    """p50/p95 of hybrid searches: single snapshot, in-process shards, Ray actor shards (same run)."""
    from benchmarks._synth import queries as synth_queries
    from benchmarks.scale_aisle import build_engine
    from benchmarks.scale_common import Spec

    cache = Path(os.environ.get("AISLE_RAY_BENCH_CACHE", "/tmp/aisle-ray-bench"))
    spec = Spec(engine="aisle", size=size, cache=str(cache))
    single, enc, _, _ = build_engine(spec)
    texts, _ = synth_queries(n_queries, cache=cache)
    settings = single.settings
    out: dict[str, Any] = {"size": size, "queries": len(texts), "single": _timed(single, texts)}
    print(json.dumps(out), flush=True)
    snap = single.snapshot
    with tempfile.TemporaryDirectory(prefix="aisle-shards-") as tmp:
        ray_mod = None
        if use_ray:
            import ray as ray_mod

            ray_mod.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        for n in shards:
            local = local_sharded(snap, n, Path(tmp) / f"n{n}", encoder=enc, settings=settings)
            row: dict[str, Any] = {"local": _timed(local, texts)}
            del local
            if ray_mod is not None:
                from search.serve.ray_shards import RayShards

                backend = RayShards(Path(tmp) / f"n{n}", timeout_s=60.0)
                eng = ShardedEngine(snap, connect=backend.connect, backend=backend, encoder=enc, settings=settings)
                row["ray"] = _timed(eng, texts)
                for k in list(backend.actors):
                    backend.kill(k)
            out[f"shards_{n}"] = row
            print(json.dumps({n: row}), flush=True)
        if ray_mod is not None:
            ray_mod.shutdown()
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="what", required=True)
    e = sub.add_parser("equal")
    e.add_argument("--home", type=Path, default=Path("/work/bench-home"))
    e.add_argument("--shards", type=int, nargs="+", default=[2, 4, 8])
    lat = sub.add_parser("latency")
    lat.add_argument("--size", type=int, default=100_000)
    lat.add_argument("--shards", type=int, nargs="+", default=[2, 4, 8])
    lat.add_argument("--queries", type=int, default=100)
    lat.add_argument("--no-ray", action="store_true")
    em = sub.add_parser("embed")
    em.add_argument("--products", type=int, default=2000)
    em.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = ap.parse_args(argv)
    if args.what == "equal":
        res = equal(args.home, args.shards)
    elif args.what == "latency":
        res = latency(args.size, args.shards, args.queries, not args.no_ray)
    else:
        from benchmarks.ray_embed import embed_benchmark

        res = embed_benchmark(args.products, args.workers)
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
