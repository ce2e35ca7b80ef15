"""Warm-up stays out of ``aisle eval`` latency (issue 16): the first request of each mode loads the model and is
not timed (a fake clock makes the check exact: no timing in the test)."""

from __future__ import annotations

import pytest

from search.eval.io import EvalQuery
from search.eval.run import evaluate
from search.schema import SearchRequest, SearchResponse
from tests.search.evalfixtures import fixture_engine, result


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_first_request_per_mode_is_not_timed(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    monkeypatch.setattr("search.eval.run.time.perf_counter", clock)
    inner = fixture_engine({f"q{i}": [result("a")] for i in range(5)})
    seen: dict[str, int] = {}

    def engine(req: SearchRequest) -> SearchResponse:
        seen[req.mode] = seen.get(req.mode, 0) + 1
        clock.t += 5.0 if seen[req.mode] == 1 else 0.002  # a model load on the first call, then 2 ms
        return inner(req)

    queries = [EvalQuery(f"q{i}", f"q{i}", None, None, None, None) for i in range(5)]
    res = evaluate(queries, {q.query_id: {"a": 1} for q in queries}, engine, modes=("bm25", "dense"), resamples=10)
    for mode in ("bm25", "dense"):
        assert res.modes[mode].latency_ms["max"] == pytest.approx(2.0)
        assert res.modes[mode].latency_ms["p95"] == pytest.approx(2.0)
