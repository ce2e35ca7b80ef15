"""Relevance of engine settings on the dev set, with an honest (cross-validated) figure.

Runs the dev queries (one or more query files + qrels, e.g. ``dev/`` and ``dev2/``) through
:meth:`search.engine.Engine.search` for every setting of a grid (:class:`EngineSettings` overrides),
in hybrid mode with near matches and strict, plus bm25 and dense once, and writes per-query nDCG@10.

The cross-validated figure: query ids are shuffled with a fixed seed and cut into 5 folds; for each
fold the setting with the best mean objective (near + strict nDCG@10, averaged) on the other 4 folds
is chosen and scored on the held-out fold; the figure is the mean over folds. Anything tuned on dev
should be quoted with it, not with the best in-sample number.

Also reported per setting: judged@10 (near and strict, share of the top 10 that has a judgment) and
how many queries hybrid scores more than 0.1 below the better of bm25 and dense. ``--unjudged PATH``
writes the (query_id, doc_id) pairs in the top 10 of the first setting (hybrid near and strict) and of
bm25 and dense that have no judgment, one ``query_id<TAB>doc_id`` a line, for the judges.

    python benchmarks/relevance.py --home /work/bench-home \\
        --queries ../shared/eval/dev/queries.jsonl --qrels ../shared/eval/dev/qrels.tsv \\
        --queries ../shared/eval/dev2/queries.jsonl --qrels ../shared/eval/dev2/qrels.tsv \\
        [--grid grid.json] [--out /tmp/relevance.json]

``--grid`` is a JSON object ``{name: {EngineSettings field: value}}``; the default grid compares the
fusion methods of :mod:`search.retrieval.retrieve`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from indexer.build.snapshot import load_current  # noqa: E402
from indexer.workspace import Workspace  # noqa: E402
from search.engine import Engine, EngineSettings  # noqa: E402
from search.eval.run import evaluate  # noqa: E402
from search.eval.sets import load_query_sets, merge_qrels, worse_than_best  # noqa: E402
from search.retrieval.encoding import load_query_encoder  # noqa: E402

DEFAULT_GRID: dict[str, dict[str, Any]] = {
    "weighted": {"fusion": "weighted"},
    "rrf": {"fusion": "rrf"},
    "zscore": {"fusion": "zscore"},
    "zscore_cov1": {"fusion": "zscore", "coverage_power": 1.0},
    "zscore_cov2": {"fusion": "zscore", "coverage_power": 2.0},
    "weighted_cov2": {"fusion": "weighted", "coverage_power": 2.0},
    "zscore_d1.5": {"fusion": "zscore", "weights": (1.0, 1.5)},
    "zscore_d1.5_cov1": {"fusion": "zscore", "weights": (1.0, 1.5), "coverage_power": 1.0},
    "zscore_clipped": {"fusion": "zscore", "clip_missing": True},
    "zscore_floor3": {"fusion": "zscore", "z_floor": 3.0},
    "zscore_prf2_0.3": {"fusion": "zscore", "prf_k": 2, "prf_beta": 0.3},
}
FOLDS = 5
SEED = 0


class _SharedEncoder:
    """One encoder for every engine of the grid, with a query cache (the grid repeats each query)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.name = inner.name
        self.dim = getattr(inner, "dim", None)
        self._cache: dict[str, np.ndarray] = {}

    def encode(self, texts: list[str], **kw: Any) -> np.ndarray:
        miss = [t for t in texts if t not in self._cache]
        if miss:
            for t, v in zip(miss, np.asarray(self._inner.encode(miss), dtype=np.float32), strict=True):
                self._cache[t] = v
        return np.stack([self._cache[t] for t in texts])


def _settings(overrides: dict[str, Any]) -> EngineSettings:
    o = dict(overrides)
    if "weights" in o:
        o["weights"] = tuple(o["weights"])
    return EngineSettings(stale_ttl_s=None, **o)


def _per_query(result: Any) -> tuple[dict[str, float], float]:
    r = result.modes[next(iter(result.modes))]
    return ({q: float(v["ndcg@10"] or 0.0) for q, v in r.per_query.items()}, float(r.metrics["judged@10"] or 0.0))


def _recording(search: Any, top: dict[str, set[str]]) -> Any:
    """``search`` that also keeps the doc ids of each query's top 10 (keyed by the query text)."""
    def run(request: Any) -> Any:
        response = search(request)
        top.setdefault(request.query, set()).update(r.doc_id for r in response.results[:10])
        return response
    return run


def run_grid(home: Path, queries: list[Path], qrels: list[Path], grid: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Per-query nDCG@10 of every setting (near and strict) and of bm25 / dense with the first setting."""
    qs, split = load_query_sets(queries)
    judged = merge_qrels([__import__("search.eval.io", fromlist=["load_qrels"]).load_qrels(p) for p in qrels])
    snap = load_current(Workspace(home))
    enc = _SharedEncoder(load_query_encoder(str(snap.manifest.get("model") or "")))
    out: dict[str, Any] = {"split": split, "kind": {q.query_id: q.kind for q in qs}, "settings": {}, "singles": {}}
    top: dict[str, set[str]] = {}
    for i, (name, overrides) in enumerate(grid.items()):
        engine = Engine(snap, encoder=enc, settings=_settings(overrides))  # type: ignore[arg-type]
        search = _recording(engine.search, top) if i == 0 else engine.search
        row: dict[str, Any] = {"overrides": overrides}
        for label, near in (("near", True), ("strict", False)):
            res = evaluate(qs, judged, search, modes=("hybrid",), include_near=near, resamples=200)
            row[label], row[f"judged_{label}"] = _per_query(res)
        if i == 0:
            for mode in ("bm25", "dense"):
                for near in (True, False):
                    res = evaluate(qs, judged, search, modes=(mode,), include_near=near, resamples=200)
                    if near:
                        out["singles"][mode], _ = _per_query(res)
        out["settings"][name] = row
        print(f"{name:24s} near {np.mean(list(row['near'].values())):.3f} strict "
              f"{np.mean(list(row['strict'].values())):.3f} judged {row['judged_near']:.3f}/"
              f"{row['judged_strict']:.3f}", file=sys.stderr, flush=True)
    out["unjudged"] = sorted({(q.query_id, d) for q in qs for d in top.get(q.query, ())
                              if d not in judged.get(q.query_id, {})})
    return out


def folds(qids: list[str], k: int = FOLDS, seed: int = SEED) -> list[list[str]]:
    """``k`` folds of a seeded shuffle of the sorted query ids."""
    ids = sorted(qids)
    np.random.default_rng(seed).shuffle(ids)
    return [ids[i::k] for i in range(k)]


def cross_validate(data: dict[str, Any], k: int = FOLDS, seed: int = SEED) -> dict[str, Any]:
    """Pick the best setting on k-1 folds (mean of near and strict), score the held-out fold; mean over folds."""
    settings = data["settings"]
    qids = list(next(iter(settings.values()))["near"])

    def objective(name: str, ids: list[str]) -> float:
        s = settings[name]
        return float(np.mean([(s["near"][q] + s["strict"][q]) / 2 for q in ids]))

    per_fold = []
    for i, test in enumerate(folds(qids, k, seed)):
        train = [q for q in qids if q not in set(test)]
        best = max(settings, key=lambda n: objective(n, train))
        s = settings[best]
        per_fold.append({"fold": i, "chosen": best, "n": len(test),
                         "near": float(np.mean([s["near"][q] for q in test])),
                         "strict": float(np.mean([s["strict"][q] for q in test]))})
    return {"folds": per_fold, "near": float(np.mean([f["near"] for f in per_fold])),
            "strict": float(np.mean([f["strict"] for f in per_fold]))}


def summary(data: dict[str, Any]) -> dict[str, Any]:
    """Per setting: near/strict mean overall, per split and per kind, judged@10, hybrid-below-best count."""
    out: dict[str, Any] = {}
    for name, s in data["settings"].items():
        row: dict[str, Any] = {"near": float(np.mean(list(s["near"].values()))),
                               "strict": float(np.mean(list(s["strict"].values()))),
                               "judged_near": s["judged_near"], "judged_strict": s["judged_strict"]}
        for key in ("split", "kind"):
            groups = sorted({str(v) for v in data[key].values()})
            for g in groups:
                ids = [q for q in s["near"] if str(data[key].get(q)) == g]
                if ids:
                    row[f"{key}:{g}"] = float(np.mean([s["near"][q] for q in ids]))
        worse = worse_than_best({"hybrid": s["near"], **data["singles"]})
        row["below_best_0.1"] = len(worse)
        row["below_best_ids"] = worse
        out[name] = row
    for mode, per in data["singles"].items():
        out[f"single:{mode}"] = {"near": float(np.mean(list(per.values())))}
    return out


def main(argv: list[str] | None = None) -> int:
    """Command line (see the module docstring)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--home", type=Path, default=Path("/work/bench-home"))
    ap.add_argument("--queries", type=Path, action="append", required=True)
    ap.add_argument("--qrels", type=Path, action="append", required=True)
    ap.add_argument("--grid", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=Path("/tmp/relevance.json"))
    ap.add_argument("--unjudged", type=Path, default=None, help="write unjudged (query_id, doc_id) of the top 10s")
    a = ap.parse_args(argv)
    grid = json.loads(a.grid.read_text()) if a.grid else DEFAULT_GRID
    data = run_grid(a.home, a.queries, a.qrels, grid)
    data["summary"] = summary(data)
    data["cv"] = cross_validate(data)
    a.out.write_text(json.dumps(data, indent=1))
    if a.unjudged is not None:
        a.unjudged.write_text("".join(f"{q}\t{d}\n" for q, d in data["unjudged"]))
        print(f"{len(data['unjudged'])} unjudged (query, doc) pairs in the top 10s -> {a.unjudged}")
    for name, row in data["summary"].items():
        print(name, {k: (round(v, 3) if isinstance(v, float) else v) for k, v in row.items() if k != "below_best_ids"})
    print("5-fold CV:", json.dumps(data["cv"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
