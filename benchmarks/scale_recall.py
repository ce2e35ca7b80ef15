"""Where end-to-end recall leaves retrieval recall, on a snapshot built on disk (issue 14, fourth round).

    python benchmarks/scale_recall.py --home HOME --cache CACHE [--queries 200] [--json OUT.json]

``HOME`` is a workspace of ``benchmarks/scale_snapshot.py`` (``<cache>/snapshot-n<size>-model-s7/home``) and
``CACHE`` holds the query vectors (``benchmarks._synth.queries``). For every query and merchant-filter
selectivity (as ``benchmarks/scale_aisle.measure``: dense mode, limit 10, the relevance floor off), recall@10
against exact brute force over the rows the engine's filter allows, with the vector of the engine's ranking
text (``benchmarks.scale_common.recall_at_k``, ties counted), of:

* ``default``: :meth:`Engine.search` as a user calls it;
* ``no_buyable_first``: the same request with ``buyable_first=False``;
* ``retrieval``: the engine's filtered dense retrieval alone (``benchmarks.scale_aisle``'s), top 10;
* ``engine_exact``: against the same engine with exact vector search (:meth:`Engine.with_dense` ``None``),
  answers compared result for result (``benchmarks.scale_common.answer_recall``).

``split`` lists the queries the engine answers item by item (:func:`search.items.split_items`), whose answers
interleave several searches. The query encoder is torch (the backend the synthetic vectors come from).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
# the repository first, and not this folder (benchmarks/search.py would hide the search package)
sys.path[:] = [str(REPO)] + [p for p in sys.path if p and Path(p).resolve() != REPO / "benchmarks"]

from benchmarks._synth import allowed_merchants, queries  # noqa: E402
from benchmarks.scale_aisle import RecordingEncoder, retrieval_rows  # noqa: E402
from benchmarks.scale_common import SELECTIVITIES, K, answer_recall, exact_topk, recall_at_k  # noqa: E402


def _answer(engine: Any, resp: Any) -> list[tuple[int, float, bool]]:
    out = [(engine.snapshot.row_of(x.doc_id), float(x.score), bool(x.buy.eligible)) for x in resp.results]
    return [(int(r), sc, b) for r, sc, b in out if r is not None]


def one_query(engine: Any, exact: Any, vectors: np.ndarray, text: str, merchants: list[str]) -> dict[str, Any] | None:
    """The recalls of the module docstring for one request (None: no words to rank by)."""
    from search.filter.variants import rows_of, satisfying_mask
    from search.items import split_items
    from search.schema import Filters, SearchRequest

    req = SearchRequest(query=text, mode="dense", filters=Filters(merchant=merchants) if merchants else None, limit=K)
    it = engine.interpret(req)
    if not it.ranking_text.strip():
        return None
    vec = engine.encode_query(it.ranking_text)
    vmask = satisfying_mask(engine.catalog, it.constraints)
    mask = None
    if vmask is not None:
        mask = np.zeros(vectors.shape[0], dtype=bool)
        mask[rows_of(engine.catalog, vmask)] = True
    _, truth = exact_topk(vectors, vec[None, :], mask, K)
    default = _answer(engine, engine.search(req))
    rows = {"default": [a[0] for a in default],
            "no_buyable_first": [a[0] for a in _answer(engine, engine.search(req.model_copy(
                update={"buyable_first": False})))],
            "retrieval": [int(r) for r in retrieval_rows(engine, vec, None if it.constraints.empty
                                                         else it.constraints)]}
    recall = {k: recall_at_k(vectors, vec, v, truth[0], K) for k, v in rows.items()}
    recall["engine_exact"] = answer_recall(default, _answer(exact, exact.search(req)), K)
    return {"text": text, "split": len(split_items(text, engine.catalog)) > 1, "recall": recall, "rows": rows}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--home", type=Path, required=True)
    ap.add_argument("--cache", type=Path, required=True)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--selectivities", default=",".join(str(s) for s in SELECTIVITIES))
    ap.add_argument("--json", type=Path, default=None)
    a = ap.parse_args()
    from indexer.build.embed import load_encoder
    from indexer.workspace import Workspace
    from search.engine import Engine, EngineSettings

    texts, _ = queries(a.queries, source="model", cache=a.cache)
    enc = RecordingEncoder(load_encoder(None, backend="torch"))
    engine = Engine.open(Workspace.resolve(a.home), encoder=enc,
                         settings=EngineSettings(stale_ttl_s=None, kind_threshold=None))
    exact, vectors = engine.with_dense(None), np.asarray(engine.snapshot.vectors)
    report: dict[str, Any] = {"command": " ".join(sys.argv), "by_selectivity": {}, "queries": []}
    for sel in (float(s) for s in a.selectivities.split(",")):
        got = [q for t in texts if (q := one_query(engine, exact, vectors, t, allowed_merchants(sel))) is not None]
        means = {k: round(float(np.mean([q["recall"][k] for q in got])), 4) for k in got[0]["recall"]}
        means["split_queries"] = sorted({q["text"] for q in got if q["split"]})
        report["by_selectivity"][str(sel)] = means
        report["queries"] += [{"selectivity": sel, **q} for q in got]
        print(sel, json.dumps(means), flush=True)
    if a.json:
        a.json.write_text(json.dumps(report))


if __name__ == "__main__":
    main()
