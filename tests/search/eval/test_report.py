"""search.eval.report: the report folder (JSON, markdown, non-empty PNG plots)."""

from __future__ import annotations

import json
from pathlib import Path

from search.eval.gold import parse_constraints
from search.eval.io import EvalQuery
from search.eval.report import write_report
from search.eval.run import EvalResult, evaluate
from tests.search.evalfixtures import fixture_engine, result

PNG = b"\x89PNG\r\n\x1a\n"


def _result(baseline: dict[str, dict[str, float]] | None = None) -> EvalResult:
    n = 12
    qrels = {f"q{i}": {"a": 2, "b": 1, "c": 0} for i in range(n)}
    qrels["q12"] = {"c": 0}  # judged, nothing relevant: listed
    by_mode = {
        "bm25": {f"q{i}": [result("c"), result("x"), result("b")][: 1 + i % 3] for i in range(n + 1)},
        "dense": {f"q{i}": [result("b"), result("a")] for i in range(n + 1)},
        "hybrid": {f"q{i}": [result("a", options={"Color": "Red"}), result("b", eligible=False)]
                   for i in range(n + 1)},
    }
    gold = parse_constraints({"color": "red"}, "t")
    queries = [EvalQuery(f"q{i}", f"q{i}", constraints=gold if i % 2 else None,
                         kind="constrained" if i % 2 else "semantic") for i in range(n + 1)]
    return evaluate(queries, qrels, fixture_engine({}, by_mode=by_mode), modes=("bm25", "dense", "hybrid"),
                    baseline=baseline)


def test_report_files(tmp_path: Path) -> None:
    res = _result()
    written = write_report(res, tmp_path / "rep", command="aisle eval --mode all")
    names = sorted(p.name for p in written)
    assert names == ["delta.png", "metrics.png", "report.json", "report.md"]
    for png in ("metrics.png", "delta.png"):
        data = (tmp_path / "rep" / png).read_bytes()
        assert data.startswith(PNG) and len(data) > 10_000
    doc = json.loads((tmp_path / "rep" / "report.json").read_text())
    assert set(doc["modes"]) == {"bm25", "dense", "hybrid"} and doc["command"] == "aisle eval --mode all"
    assert doc["unjudged_queries"][0]["query_id"] == "q12"
    md = (tmp_path / "rep" / "report.md").read_text()
    for needle in ("| ndcg@10 |", "bm25 → hybrid", "## ndcg@10 by query kind", "| constrained |",
                   "`q12`", "![delta.png](delta.png)", "## Unmet gold constraints"):
        assert needle in md, needle


def test_report_against_a_baseline_and_without_a_pair(tmp_path: Path) -> None:
    res = _result(baseline={f"q{i}": {"b": 2.0, "a": 1.0} for i in range(12)})
    write_report(res, tmp_path / "b")
    md = (tmp_path / "b" / "report.md").read_text()
    assert "baseline → hybrid" in md and "| baseline |" not in md.split("\n")[0]
    assert (tmp_path / "b" / "delta.png").read_bytes().startswith(PNG)
    single = evaluate([EvalQuery("q1", "x")], {"q1": {"a": 1}}, fixture_engine({"x": [result("a")]}))
    written = write_report(single, tmp_path / "s")
    assert sorted(p.name for p in written) == ["metrics.png", "report.json", "report.md"]
