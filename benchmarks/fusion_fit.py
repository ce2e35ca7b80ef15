"""A learned fusion model on the dev set, with an honest (5-fold cross-validated) engine figure.

``EngineSettings.fusion_model`` weighs each retriever (BM25, MiniLM, multilingual USE) by ``max(0, row ·
features)`` over the query features of :data:`search.retrieval.fusion.QUERY_FEATURES`. This script fits the rows:

1. every dev query runs once through :meth:`search.engine.Engine.search` (hybrid, near matches) with the
   default settings; each ranking call is recorded and its candidates (the union of the three top lists) get
   the engine's z-scores (:func:`search.retrieval.fusion.zscore`'s standardisation), the query's features
   (:func:`search.retrieval.fusion.query_features`) and their grades (unjudged = 0);
2. per fold (the seeded folds of ``benchmarks/relevance.py``), coordinate ascent from the default model
   (``((1,), (1,), (1, -1))``: fixed weights and the gated multilingual signal) on ten of the coefficients,
   maximising the mean nDCG@10 of the fused candidate lists of the 4 training folds;
3. each fold's model answers its held-out queries through the engine (near and strict); the figure is the
   mean over all 100, with the count of queries more than 0.1 below the better of bm25 and dense.

    python benchmarks/fusion_fit.py --home HOME --queries Q1 --qrels R1 [--queries Q2 --qrels R2 ...] \\
        [--out models.json]

The models (plain numbers, one per fold) are written as JSON; one can be passed as ``fusion_model``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import search.retrieval.pipeline as pipeline  # noqa: E402
from indexer.build.lexical import tokenize  # noqa: E402
from search.eval.io import load_qrels  # noqa: E402
from search.eval.run import build_request  # noqa: E402
from search.eval.sets import load_query_sets, merge_qrels  # noqa: E402
from search.retrieval import retrieve as R  # noqa: E402
from search.retrieval.fusion import query_features, standardise  # noqa: E402

DEFAULT = np.array([[1, 0, 0, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0, 0], [1, -1, 0, 0, 0, 0, 0]], dtype=np.float64)
FREE = [(0, 0), (0, 1), (0, 3), (0, 6), (1, 2), (1, 4), (1, 5), (2, 0), (2, 1), (2, 2)]  # (row, feature)


def _z(x: np.ndarray, ref: Any) -> np.ndarray:
    return standardise(x, np.asarray(ref.scores, dtype=np.float64), clip=False, z_floor=0.0) if len(ref) \
        else np.zeros_like(x)


def candidates(kw: dict[str, Any], grades: dict[str, int], doc_ids: list[str]) -> dict[str, Any]:
    """One ranking call's candidates: z-scores (n x 3), the query's features, grades."""
    text, allowed, li = kw["text"], kw["allowed"], kw["lexical_index"]
    qt = kw.get("query_text") or text
    lex = R.lexical(li, text, kw["depth"], allowed)
    qv = kw["encode"](text)
    den = R.dense(kw["dense_index"], kw["vectors"], qv, kw["depth"], allowed, exact_threshold=kw["exact_threshold"])
    mvec, mencode = kw["multilingual"][0], kw["multilingual"][1]
    mq = mencode(text)
    ml = R.dense(None, mvec, mq, kw["depth"], allowed, exact_threshold=len(mvec) + 1)
    rows = np.union1d(np.union1d(lex.rows, den.rows), ml.rows).astype(np.int64)
    share = li.matched_share(qt, int(lex.rows[0])) if len(lex) else 0.0
    g = query_features(len(set(tokenize(qt))), R.lexical_confidence(li, text), lex, den, share)
    z = np.stack([_z(li.scores(text)[rows].astype(np.float64), lex),
                  _z((kw["vectors"][rows] @ qv).astype(np.float64), den),
                  _z((mvec[rows] @ mq).astype(np.float64), ml)], 1)
    return {"rows": rows, "z": z, "g": g, "grades": np.array([max(grades.get(doc_ids[r], 0), 0) for r in rows])}


def record(engine: Any, queries: list[Any], qrels: dict[str, dict[str, int]], doc_ids: list[str]) -> list[dict]:
    """Every hybrid ranking call of every query (near matches on), as :func:`candidates`."""
    calls: list[dict[str, Any]] = []
    inner = pipeline.retrieve

    def spy(**kw: Any) -> Any:
        calls.append(kw)
        return inner(**kw)

    pipeline.retrieve = spy  # type: ignore[assignment]
    out = []
    try:
        for q in queries:
            calls.clear()
            engine.search(build_request(q, "hybrid", 10, include_near=True))
            for kw in [c for c in calls if c["mode"] == "hybrid" and c["multilingual"] is not None]:
                out.append({"qid": q.query_id, **candidates(kw, qrels.get(q.query_id, {}), doc_ids)})
    finally:
        pipeline.retrieve = inner  # type: ignore[assignment]
    return out


def ndcg_calls(model: np.ndarray, calls: list[dict[str, Any]], ideal: dict[str, list[int]]) -> float:
    """Mean nDCG@10 of the candidate lists fused with ``model``."""
    vals = []
    for c in calls:
        w = np.maximum(0.0, model @ c["g"])
        s = c["z"] @ w
        gr = c["grades"][np.lexsort((c["rows"], -s))][:10]
        best = ideal[c["qid"]][:10]
        idcg = sum(x / math.log2(i + 2) for i, x in enumerate(best))
        if idcg > 0:
            vals.append(sum(x / math.log2(i + 2) for i, x in enumerate(gr)) / idcg)
    return float(np.mean(vals)) if vals else 0.0


def ascend(calls: list[dict[str, Any]], ideal: dict[str, list[int]]) -> np.ndarray:
    """Coordinate ascent from :data:`DEFAULT` on the :data:`FREE` coefficients (steps 0.5, 0.25, 0.1)."""
    model, best = DEFAULT.copy(), ndcg_calls(DEFAULT, calls, ideal)
    for step in (0.5, 0.25, 0.1):
        for _ in range(3):
            moved = False
            for r, f in FREE:
                for d in (step, -step):
                    m = model.copy()
                    m[r, f] += d
                    v = ndcg_calls(m, calls, ideal)
                    if v > best + 1e-4:
                        model, best, moved = m, v, True
            if not moved:
                break
    return model


class _Cached:
    """One encoder for every engine here, with a query cache (each query is encoded once)."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.name, self.dim, self.cache = inner, inner.name, getattr(inner, "dim", None), {}

    def encode(self, texts: list[str], **kw: Any) -> np.ndarray:
        for t in [t for t in texts if t not in self.cache]:
            self.cache[t] = np.asarray(self.inner.encode([t]), dtype=np.float32)[0]
        return np.stack([self.cache[t] for t in texts])


def _ndcg(docs: list[str], grades: dict[str, int]) -> float:
    seen = list(dict.fromkeys(docs))[:10]
    best = sorted(grades.values(), reverse=True)[:10]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(best))
    return sum(grades.get(d, 0) / math.log2(i + 2) for i, d in enumerate(seen)) / idcg if idcg > 0 else 0.0


def main(argv: list[str] | None = None) -> int:
    """Command line (see the module docstring)."""
    from relevance import folds  # benchmarks/relevance.py: the same folds

    from indexer.build.snapshot import load_current
    from indexer.workspace import Workspace
    from search.engine import Engine, EngineSettings
    from search.retrieval.encoding import load_query_encoder

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--home", type=Path, required=True)
    ap.add_argument("--queries", type=Path, action="append", required=True)
    ap.add_argument("--qrels", type=Path, action="append", required=True)
    ap.add_argument("--out", type=Path, default=Path("/tmp/fusion_models.json"))
    a = ap.parse_args(argv)
    qs, _ = load_query_sets(a.queries)
    qrels = merge_qrels([load_qrels(p) for p in a.qrels])
    qs = [q for q in qs if max(qrels.get(q.query_id, {}).values(), default=0) >= 1]
    snap = load_current(Workspace(a.home))
    enc = _Cached(load_query_encoder(str(snap.manifest.get("model") or "")))

    def engine(model: Any = None) -> Any:
        return Engine(snap, encoder=enc, settings=EngineSettings(stale_ttl_s=None, fusion_model=model))

    def score(e: Any, q: Any, mode: str, near: bool) -> float:
        r = e.search(build_request(q, mode, 10, include_near=near))  # type: ignore[arg-type]
        return _ndcg([x.doc_id for x in r.results], qrels.get(q.query_id, {}))

    base = engine()
    doc_ids = [p.doc_id for p in snap.products]
    calls = record(base, qs, qrels, doc_ids)
    ideal = {q: sorted(g.values(), reverse=True) for q, g in qrels.items()}
    best = {q.query_id: max(score(base, q, "bm25", True), score(base, q, "dense", True)) for q in qs}
    near: dict[str, float] = {}
    strict: dict[str, float] = {}
    models = []
    for i, test in enumerate(folds([q.query_id for q in qs])):
        held = set(test)
        model = ascend([c for c in calls if c["qid"] not in held], ideal)
        models.append(model.tolist())
        e = engine(tuple(tuple(r) for r in model.tolist()))
        for q in (q for q in qs if q.query_id in held):
            near[q.query_id], strict[q.query_id] = score(e, q, "hybrid", True), score(e, q, "hybrid", False)
        print(f"fold {i}: {np.round(model, 2).tolist()}", file=sys.stderr, flush=True)
    below = sorted(q for q in near if best[q] - near[q] > 0.1)
    out = {"models": models, "near": float(np.mean(list(near.values()))),
           "strict": float(np.mean(list(strict.values()))), "below_best_0.1": below}
    a.out.write_text(json.dumps(out, indent=1))
    print(json.dumps({k: v for k, v in out.items() if k != "models"}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
