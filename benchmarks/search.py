"""Search quality and latency of the engine on the shared dev queries, against plain baselines.

Runs every dev query (``../shared/eval/dev``: queries.jsonl + qrels.tsv over ``../shared/catalogs``)
through :meth:`search.engine.Engine.search` in each mode with :func:`search.eval.run.evaluate` (nDCG@10
with ranx, judged@10, constraint satisfaction and eligible-hit rate of the top 10), then measures
query latency (limit 10, warm, p50/p95) per mode. Baselines run in the same process on the same
snapshot: plain BM25 over the raw query (no parsing, no filters), plain dense (FAISS top 10) and
plain RRF of the two (k = 60), the reference methods of ``../shared/eval/README.md``.

The shared catalogs were crawled long before the run, so eligibility is measured with the stale-data
rule switched off (``stale_ttl_s=None``); every other rule applies.

    python benchmarks/search.py [--home /work/bench-home] [--repeat 3] [--sweep] [--json]
    python benchmarks/search.py --home H --query-backends torch,onnx --repeat 3   # query encoders side by side

``--sweep`` also scores a few alternative engine settings (fusion, candidate depth, ranking text) in
hybrid mode: a tool to compare methods, not to tune dev figures (the engine is scored on unseen queries).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
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
from search.retrieval.retrieve import Ranked, rrf  # noqa: E402
from search.retrieval.threads import single_threaded  # noqa: E402
from search.schema import SearchRequest  # noqa: E402

DEV = REPO.parent / "shared" / "eval" / "dev"


def _ndcg(run: dict[str, list[str]], qrels: dict[str, dict[str, int]]) -> float:
    from ranx import Qrels, Run
    from ranx import evaluate as rx

    scored = {q: g for q, g in qrels.items() if g and max(g.values()) >= 1 and q in run}
    r = {q: {d: float(len(docs) - i) for i, d in enumerate(docs)} or {"__none__": 0.0} for q, docs in run.items()
         if q in scored}
    return float(rx(Qrels(scored), Run(r), "ndcg@10"))


def _condensed(run: dict[str, list[str]], qrels: dict[str, dict[str, int]]) -> float:
    """nDCG@10 over condensed lists: unjudged documents removed before cutting at 10 (Sakai 2007).

    The dev judgments were pooled from BM25 and dense baselines, so a method that finds other products
    meets unjudged ones; condensing compares methods on what was judged instead of scoring holes as 0.
    """
    return _ndcg({q: [d for d in docs if d in qrels.get(q, {})] for q, docs in run.items()}, qrels)


def _pct(xs: list[float]) -> tuple[float, float]:
    p50, p95 = np.percentile(xs, [50, 95])
    return round(float(p50), 2), round(float(p95), 2)


def baselines(engine: Engine, queries: list[Any], qrels: dict[str, dict[str, int]], repeat: int) -> dict[str, Any]:
    """Plain BM25 / dense / RRF over the raw query on the same snapshot: nDCG@10 and latency."""
    snap = engine.snapshot
    out: dict[str, Any] = {}
    runs: dict[str, dict[str, list[str]]] = {"bm25": {}, "dense": {}, "rrf": {}}
    lat: dict[str, list[float]] = {"bm25": [], "dense": [], "rrf": []}
    for rep in range(repeat + 1):
        for q in queries:
            engine.clear_query_cache()  # time the real encoding
            t = time.perf_counter()
            rows, scores = snap.lexical.search(q.query, 100)
            t_b = time.perf_counter()
            vec = engine.encode_query(q.query)
            s, ids = snap.dense.search(vec.reshape(1, -1), 100)
            t_d = time.perf_counter()
            fused = rrf([Ranked(rows, scores), Ranked(ids[0][ids[0] >= 0], s[0][ids[0] >= 0])], k=60, depth=100)
            t_f = time.perf_counter()
            if rep:  # the first pass warms caches
                lat["bm25"].append((t_b - t) * 1000)
                lat["dense"].append((t_d - t_b) * 1000)
                lat["rrf"].append((t_f - t) * 1000)
            ids_of = [p.doc_id for p in snap.products]
            runs["bm25"][q.query_id] = [ids_of[r] for r in rows]
            runs["dense"][q.query_id] = [ids_of[r] for r in ids[0] if r >= 0]
            runs["rrf"][q.query_id] = [ids_of[r] for r in fused.rows]
    for name in runs:
        out[name] = {"ndcg@10": round(_ndcg(runs[name], qrels), 4),
                     "ndcg@10_condensed": round(_condensed(runs[name], qrels), 4), "latency_ms": _pct(lat[name])}
    return out


def strict_ceiling(engine: Engine, queries: list[Any], qrels: dict[str, dict[str, int]]) -> float:
    """Best nDCG@10 any ranking can reach when every result must meet the parsed constraints.

    Per query: the judged products with grade >= 1 that have a variant meeting every constraint the
    engine reads from the query, in grade order. Partial matches the judges graded 1 but that fail a
    stated constraint (another colour, over the price) cannot appear in a strict answer.
    """
    from search.filter.variants import rows_of, satisfying_mask
    snap, cat = engine.snapshot, engine.catalog
    run: dict[str, list[str]] = {}
    for q in queries:
        it = engine.interpret(SearchRequest(query=q.query, filters=q.filters))
        mask = satisfying_mask(cat, it.constraints)
        allowed = set(rows_of(cat, mask).tolist()) if mask is not None else None
        grades = qrels.get(q.query_id, {})
        run[q.query_id] = [d for d in sorted(grades, key=lambda d: -grades[d])
                           if grades[d] > 0 and (allowed is None or snap.row_of(d) in allowed)]
    return _ndcg(run, qrels)


def _times(engine: Engine, queries: list[Any], mode: str, near: bool = False) -> list[float]:
    """One pass: ms per Engine.search (limit 10), query-vector cache cleared before every call."""
    times: list[float] = []
    for q in queries:
        engine.clear_query_cache()  # time the real encoding
        req = SearchRequest(query=q.query, mode=mode, limit=10, context=q.context or SearchRequest().context,
                            filters=q.filters, include_near=near)
        t = time.perf_counter()
        engine.search(req)
        times.append((time.perf_counter() - t) * 1000)
    return times


def latency(engine: Engine, queries: list[Any], mode: str, repeat: int, near: bool = False) -> tuple[float, float]:
    """Warm per-query latency of Engine.search (limit 10), query-vector cache cleared every call."""
    times: list[float] = []
    for rep in range(repeat + 1):
        got = _times(engine, queries, mode, near)
        if rep:  # the first pass warms caches
            times += got
    return _pct(times)


def query_backends(snap: Any, settings: EngineSettings, queries: list[Any], backends: list[str],
                   repeat: int) -> dict[str, Any]:
    """Hybrid latency (strict, and with near matches) and single-query encoding per query encoder
    (``EngineSettings.query_backend``), one engine each on the same snapshot, taking turns pass by pass so
    that each sees the same machine load; ratios against the first backend."""
    import os

    engines = {b: Engine(snap, settings=replace(settings, query_backend=b)) for b in backends}
    for e in engines.values():
        e.search(SearchRequest(query="warm up the encoder"))
    got: dict[str, dict[str, list[float]]] = {b: {"hybrid": [], "hybrid+near": [], "encode": []} for b in backends}
    load = [round(os.getloadavg()[0], 2)]
    for rep in range(repeat + 1):
        for b, e in engines.items():
            hybrid, near = _times(e, queries, "hybrid"), _times(e, queries, "hybrid", True)
            enc = []
            with single_threaded():  # as inside a search: one torch / BLAS thread
                for q in queries:
                    e.clear_query_cache()
                    t = time.perf_counter()
                    e.encode_query(q.query)
                    enc.append((time.perf_counter() - t) * 1000)
            if rep:
                got[b]["hybrid"] += hybrid
                got[b]["hybrid+near"] += near
                got[b]["encode"] += enc
        load.append(round(os.getloadavg()[0], 2))
    out: dict[str, Any] = {"load_average_1min": load}
    for b, e in engines.items():
        enc_name = f"{type(e.encoder).__name__} {e.encoder.name}" if e.encoder is not None else None
        out[b] = {"encoder": enc_name} | {f"{k}_ms": _pct(v) for k, v in got[b].items()}
    first = backends[0]
    for b in backends[1:]:
        out[f"{b}/{first} p50"] = {k: round(float(np.median(got[b][k]) / np.median(got[first][k])), 3)
                                   for k in got[b]}
    return out


def ab(engine: Engine, queries: list[Any], name: str, repeat: int) -> dict[str, Any]:
    """``--ab SETTING``: the engine and one with the boolean setting flipped, request by request, per mode (strict and
    hybrid with near matches); the table rows under ``table``."""
    import os

    from benchmarks.scale_ab import ab_runs, ab_table, flipped

    def reqs(mode: str, near: bool = False) -> list[SearchRequest]:
        return [SearchRequest(query=q.query, mode=mode, limit=10, context=q.context or SearchRequest().context,
                              filters=q.filters, include_near=near) for q in queries]  # type: ignore[arg-type]

    load = round(os.getloadavg()[0], 2)
    runs = ab_runs(flipped(engine, name), {"bm25": reqs("bm25"), "dense": reqs("dense"), "hybrid": reqs("hybrid"),
                                           "hybrid+near": reqs("hybrid", True)}, repeat)
    return {"queries": len(queries), "repeat": repeat, "load_average": [load, round(os.getloadavg()[0], 2)],
            "runs": runs, "table": ab_table(runs)}


def engine_eval(engine: Engine, queries: list[Any], qrels: Any, modes: tuple[str, ...],
                near: bool = False) -> dict[str, Any]:
    def run(req: SearchRequest) -> Any:
        return engine.search(req.model_copy(update={"include_near": True}) if near else req)

    res = evaluate(queries, qrels, run, modes=modes, k=10, depth=100)  # type: ignore[arg-type]
    out = {}
    for m, r in res.modes.items():
        keep = ("ndcg@10", "judged@10", "constraint_sat@10", "eligible@10", "recall@100", "mrr@10")
        out[m] = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.metrics.items() if k in keep}
        ranked = {q: sorted(docs, key=lambda d, docs=docs: -docs[d]) for q, docs in r.run.items()}
        out[m]["ndcg@10_condensed"] = round(_condensed(ranked, qrels), 4)
        out[m]["failed"] = len(r.failed)
        out[m]["unmet"] = dict(r.unmet)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--home", type=Path, default=Path("/work/bench-home"))
    ap.add_argument("--dev", type=Path, default=DEV)
    ap.add_argument("--repeat", type=int, default=3, help="timed passes over the queries (after one warm-up)")
    ap.add_argument("--sweep", action="store_true", help="also score alternative settings in hybrid mode")
    ap.add_argument("--torch-threads", type=int, default=None,
                    help="torch intra-op threads for query encoding (default: torch's own choice)")
    ap.add_argument("--latency-only", action="store_true", help="skip the relevance evaluation")
    ap.add_argument("--query-backends", default=None, metavar="B1,B2",
                    help="compare query encoders (EngineSettings.query_backend: auto, onnx, torch), e.g. torch,onnx: "
                         "hybrid p50/p95 (strict and with near matches) and single-query encoding ms of each, taking "
                         "turns in this run, ratios against the first; only this comparison is run")
    ap.add_argument("--queries", type=int, default=None, help="use the first N dev queries only")
    ap.add_argument("--ab", default=None, metavar="SETTING",
                    help="a boolean EngineSettings field (e.g. prefetch_query_vector): every dev query answered with it"
                         " as it is and flipped, taking turns, per mode (benchmarks/scale_ab.py); only this is run")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if args.torch_threads:
        import torch

        torch.set_num_threads(args.torch_threads)

    t0 = time.perf_counter()
    snap = shared_snapshot(args.home)
    load_s = time.perf_counter() - t0
    settings = EngineSettings(stale_ttl_s=None)
    t0 = time.perf_counter()
    engine = Engine(snap, settings=settings)
    arrays_s = time.perf_counter() - t0
    queries = load_queries(args.dev / "queries.jsonl")[: args.queries]
    qrels = load_qrels(args.dev / "qrels.tsv")
    if args.query_backends:
        names = [b.strip() for b in args.query_backends.split(",") if b.strip()]
        print(json.dumps({"queries": len(queries), "repeat": args.repeat,
                          "query_backends": query_backends(snap, settings, queries, names, args.repeat)}, indent=2))
        return
    engine.search(SearchRequest(query="warm up the encoder"))
    if args.ab:
        print(json.dumps(ab(engine, queries, args.ab, args.repeat), indent=2))
        return

    report: dict[str, Any] = {"products": len(snap.products), "queries": len(queries),
                              "snapshot_load_s": round(load_s, 2), "engine_arrays_s": round(arrays_s, 2)}
    report["torch_threads"] = args.torch_threads
    report["query_encoder"] = engine.encoder.name if engine.encoder is not None else None
    report["baselines"] = baselines(engine, queries, qrels, args.repeat)
    if args.latency_only:
        report["engine"] = {m: {"latency_ms": latency(engine, queries, m, args.repeat)}
                            for m in ("bm25", "dense", "hybrid")}
        report["engine"]["hybrid+near"] = {"latency_ms": latency(engine, queries, "hybrid", args.repeat, True)}
        print(json.dumps({k: report[k] for k in ("torch_threads", "query_encoder", "baselines", "engine")}, indent=2))
        return
    report["engine"] = engine_eval(engine, queries, qrels, ("bm25", "dense", "hybrid"))
    for m in ("bm25", "dense", "hybrid"):
        report["engine"][m]["latency_ms"] = latency(engine, queries, m, args.repeat)
    # Strict results first, then near matches (include_near=true): how the ranking fares when the
    # partial matches the judges graded 1 may follow the exact ones.
    near = engine_eval(engine, queries, qrels, ("hybrid",), near=True)["hybrid"]
    near["latency_ms"] = latency(engine, queries, "hybrid", args.repeat, near=True)
    report["engine"]["hybrid+near"] = near
    base = report["baselines"]["bm25"]["ndcg@10"]
    report["strict_ceiling_ndcg@10"] = round(strict_ceiling(engine, queries, qrels), 4)
    report["ratio_hybrid_vs_plain_bm25"] = round(report["engine"]["hybrid"]["ndcg@10"] / base, 3) if base else None
    if args.sweep:
        variants = {
            "z-score + gated multilingual (default)": settings,
            "weighted sum": replace(settings, fusion="weighted"),
            "rrf k=60": replace(settings, fusion="rrf"),
            "rrf k=60, lexical weight 1.5": replace(settings, fusion="rrf", weights=(1.5, 1.0)),
            "depth 100": replace(settings, candidate_depth=100),
            "depth 400": replace(settings, candidate_depth=400),
            "lexical weight 1.5": replace(settings, weights=(1.5, 1.0)),
            "dense weight 1.5": replace(settings, weights=(1.0, 1.5)),
            "rank by remaining text only": replace(settings, rank_with_constraint_words=False),
            "text fallback: material only": replace(settings, text_fallback_attrs=frozenset({"material"})),
            "no vendor-in-title": replace(settings, vendor_in_title=False),
        }
        report["sweep_hybrid"] = {}
        for name, s in variants.items():
            e = Engine(snap, settings=s, encoder=engine.encoder)
            report["sweep_hybrid"][name] = engine_eval(e, queries, qrels, ("hybrid",))["hybrid"]
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"{report['products']} products, {report['queries']} dev queries; snapshot load {load_s:.2f} s, "
          f"engine arrays {arrays_s:.2f} s")
    print("baselines (raw query, same snapshot):")
    for name, r in report["baselines"].items():
        p50, p95 = r["latency_ms"]
        print(f"  plain {name:6} nDCG@10 {r['ndcg@10']:.4f}  condensed {r['ndcg@10_condensed']:.4f}  "
              f"latency p50/p95 {p50}/{p95} ms")
    print("engine:")
    for m, r in report["engine"].items():
        print(f"  {m:11} nDCG@10 {r['ndcg@10']:.4f}  condensed {r['ndcg@10_condensed']:.4f}  "
              f"judged@10 {r.get('judged@10')}  constraint_sat@10 {r.get('constraint_sat@10')}  "
              f"eligible@10 {r.get('eligible@10')}  latency p50/p95 "
              f"{r['latency_ms'][0]}/{r['latency_ms'][1]} ms  failed {r['failed']}  unmet {r['unmet']}")
    print(f"ratio hybrid / plain BM25 nDCG@10: {report['ratio_hybrid_vs_plain_bm25']}; "
          f"best nDCG@10 a strict ranking can reach: {report['strict_ceiling_ndcg@10']}")
    for name, r in (report.get("sweep_hybrid") or {}).items():
        print(f"  sweep {name:32} nDCG@10 {r['ndcg@10']:.4f}  condensed {r['ndcg@10_condensed']:.4f}  "
              f"constraint_sat@10 {r.get('constraint_sat@10')}  "
              f"judged@10 {r.get('judged@10')}")


if __name__ == "__main__":
    main()
