"""End to end: evaluation through the real engine over a real on-disk snapshot of the sample catalog.

The snapshot is built with the real model (all-MiniLM-L6-v2) from two stores of the repository's own
sample catalog (about 115 products), and the judgments are derived from the products themselves.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from search.engine import Engine
from search.eval.io import load_run, save_run
from search.eval.run import evaluate
from search.schema import SearchRequest
from tests.search.evalfixtures import build_workspace, judged_set


@pytest.mark.slow
def test_eval_through_the_real_engine_and_model(tmp_path: Path) -> None:
    from indexer.build.embed import load_encoder

    ws, products = build_workspace(tmp_path / "home", load_encoder(None, "cpu"))
    queries, qrels = judged_set(products)
    engine = Engine.open(ws)
    res = evaluate(queries, qrels, engine.search, modes=("bm25", "dense", "hybrid"))

    assert [u["query_id"] for u in res.unjudged_queries] == ["nothing", "unjudged"]
    for mode, r in res.modes.items():
        assert set(r.per_query) == {"red-m", "boards", "ca"}, mode
        assert set(r.run) == {q.query_id for q in queries}, mode  # every query ran, even unjudged ones
        assert not r.failed, mode
        assert r.metrics["ndcg@10"] is not None and r.metrics["ndcg@10"] > 0.4, (mode, r.metrics)
        assert r.metrics["judged@10"] is not None and r.metrics["eligible@10"] is not None
    hybrid = res.modes["hybrid"]
    # The engine answers for the buyer country of the context (CA, which both stores ship to).
    assert hybrid.per_query["ca"]["constraint_sat@10"] == 1.0
    # Constraint satisfaction is the share of the engine's own top-10 variants that are red and M
    # (evaluation asks for near matches by default, so they count against it).
    top = engine.search(SearchRequest(query="red beanie in size M", mode="hybrid", limit=10,
                                      include_near=True)).results
    expected = sum(v.get("Color", "").lower() == "red" and v.get("Size") == "M"
                   for v in (r.variant.options for r in top)) / len(top)
    assert hybrid.per_query["red-m"]["constraint_sat@10"] == pytest.approx(expected)
    assert hybrid.per_query["red-m"]["eligible@10"] == pytest.approx(sum(r.buy.eligible for r in top) / len(top))
    assert hybrid.per_query["boards"]["recall@100"] == 1.0
    assert {(c.control, c.treatment) for c in res.comparisons} == {("bm25", "dense"), ("bm25", "hybrid"),
                                                                    ("dense", "hybrid")}

    # A saved run scores the same when it comes back as a baseline.
    back = load_run(save_run(hybrid.run, tmp_path / "run.json"))
    again = evaluate(queries, qrels, engine.search, modes=("hybrid",), baseline=back)
    assert again.baseline is not None
    for m, v in again.baseline.metrics.items():
        assert v == pytest.approx(hybrid.metrics[m]), m
    assert all(c.delta == pytest.approx(0.0) for c in again.comparisons)
