"""What facets, explain/highlight and buyable_first cost, and what buyable_first does to relevance on dev-100.

On the shared snapshot (``benchmarks/_shared_index.py``, the dev catalogs), in one process:

* relevance: every dev query through :func:`search.eval.run.evaluate` in hybrid mode (near matches on, as
  ``aisle eval`` does) with ``buyable_first`` on (the default) and off: nDCG@10, eligible@10;
* latency (warm, limit 10, p50/p95 over ``--repeat`` passes): plain, with all eight facets, with explain and
  highlight, with everything; reported with the ratio to plain from the same run (the machine may be shared).

    python -m benchmarks.present [--home /work/bench-home] [--repeat 2] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks._shared_index import shared_snapshot  # noqa: E402
from search.engine import Engine, EngineSettings  # noqa: E402
from search.eval.io import load_qrels, load_queries  # noqa: E402
from search.eval.run import evaluate  # noqa: E402
from search.schema import FACET_NAMES, SearchRequest  # noqa: E402

DEV = REPO.parent / "shared" / "eval" / "dev"
VARIANTS: dict[str, dict[str, Any]] = {
    "plain": {},
    "facets": {"facets": list(FACET_NAMES)},
    "explain+highlight": {"explain": True, "highlight": True},
    "all": {"facets": list(FACET_NAMES), "explain": True, "highlight": True},
}


def relevance(engine: Engine, queries: list[Any], qrels: Any, buyable_first: bool) -> dict[str, float]:
    def run(req: SearchRequest) -> Any:
        return engine.search(req.model_copy(update={"buyable_first": buyable_first}))

    res = evaluate(queries, qrels, run, modes=("hybrid",), k=10, depth=100)
    m = res.modes["hybrid"].metrics
    return {k: round(float(m[k]), 4) for k in ("ndcg@10", "eligible@10") if k in m}


def latency(engine: Engine, queries: list[Any], extra: dict[str, Any], repeat: int) -> dict[str, float]:
    times = []
    for rep in range(repeat + 1):
        for q in queries:
            req = SearchRequest(query=q.query, limit=10, **extra)
            t = time.perf_counter()
            engine.search(req)
            if rep:  # the first pass warms the query-vector cache and the model
                times.append((time.perf_counter() - t) * 1000)
    a = np.asarray(times)
    return {"p50_ms": round(float(np.percentile(a, 50)), 2), "p95_ms": round(float(np.percentile(a, 95)), 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--home", type=Path, default=Path("/work/bench-home"))
    ap.add_argument("--dev", type=Path, default=DEV)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    engine = Engine(shared_snapshot(args.home), settings=EngineSettings(stale_ttl_s=None))
    queries = load_queries(args.dev / "queries.jsonl")
    qrels = load_qrels(args.dev / "qrels.tsv")
    out: dict[str, Any] = {"relevance": {f"buyable_first={b}": relevance(engine, queries, qrels, b)
                                         for b in (True, False)}}
    lat = {name: latency(engine, queries, extra, args.repeat) for name, extra in VARIANTS.items()}
    for figures in lat.values():
        figures["p50_ratio"] = round(figures["p50_ms"] / lat["plain"]["p50_ms"], 2)
    out["latency"] = lat
    print(json.dumps(out, indent=None if args.json else 2))


if __name__ == "__main__":
    main()
