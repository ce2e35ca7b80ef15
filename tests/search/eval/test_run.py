"""search.eval.run: metric values on hand-computed examples, unjudged handling, CI, comparisons."""

from __future__ import annotations

import math

import pytest
from scipy.stats import ttest_rel

from indexer.errors import ConfigError
from search.eval.gold import parse_constraints
from search.eval.io import EvalQuery, load_run, save_run
from search.eval.metrics import bootstrap_ci, rank_run, strict_scores
from search.eval.run import evaluate
from search.schema import Context, SearchRequest
from tests.search.evalfixtures import fixture_engine, result

L2 = math.log2


def _q(qid: str, text: str | None = None, **kw: object) -> EvalQuery:
    return EvalQuery(qid, text or qid, **kw)  # type: ignore[arg-type]


def test_graded_ndcg_uses_linear_gains_and_the_full_ideal() -> None:
    qrels = {"q1": {"a": 2, "b": 1, "c": 0, "d": 2}}
    engine = fixture_engine({"q1": [result("b", 3), result("z", 2), result("a", 1)]})
    res = evaluate([_q("q1")], qrels, engine, k=3)
    got = res.modes["hybrid"].metrics["ndcg@3"]
    dcg = 1 / L2(2) + 0 + 2 / L2(4)  # b (grade 1), z unjudged = 0, a (grade 2)
    idcg = 2 / L2(2) + 2 / L2(3) + 1 / L2(4)  # ideal from all judgments: a, d (2), b (1)
    assert got == pytest.approx(dcg / idcg)
    burges = (1 + 0 + 3 / L2(4)) / (3 + 3 / L2(3) + 1 / L2(4))
    assert got != pytest.approx(burges)  # exponential gains would give another number


def test_recall_mrr_precision_and_judged() -> None:
    # rank: x (grade 0), y (unjudged), a (2), b (1); relevant = grade >= 1: a, b, c
    qrels = {"q1": {"a": 2, "b": 1, "c": 1, "x": 0}}
    engine = fixture_engine({"q1": [result("x"), result("y"), result("a"), result("b")]})
    m = evaluate([_q("q1")], qrels, engine, k=10).modes["hybrid"].metrics
    assert m["recall@100"] == pytest.approx(2 / 3)
    assert m["mrr@10"] == pytest.approx(1 / 3)  # grade 0 at rank 1 is not relevant
    assert m["p@10"] == pytest.approx(2 / 10)  # P@k divides by k
    assert m["judged@10"] == pytest.approx(3 / 4)  # share of what was returned (4 results)


def test_ties_keep_the_engine_order_and_survive_a_saved_run(tmp_path) -> None:
    qrels = {"q1": {"a": 2, "c": 0}}
    first = evaluate([_q("q1")], qrels, fixture_engine({"q1": [result("c", 1.0), result("a", 1.0)]}), k=2)
    second = evaluate([_q("q1")], qrels, fixture_engine({"q1": [result("a", 1.0), result("c", 1.0)]}), k=2)
    assert first.modes["hybrid"].metrics["ndcg@2"] == pytest.approx((2 / L2(3)) / 2)
    assert second.modes["hybrid"].metrics["ndcg@2"] == pytest.approx(1.0)
    run = first.modes["hybrid"].run
    assert list(run["q1"]) == ["c", "a"] and run["q1"]["c"] > run["q1"]["a"]
    back = load_run(save_run(run, tmp_path / "run.json"))
    assert rank_run(back) == {"q1": ["c", "a"]}
    again = evaluate([_q("q1")], qrels, fixture_engine({"q1": [result("a")]}), k=2, baseline=back)
    assert again.baseline is not None
    assert again.baseline.metrics["ndcg@2"] == pytest.approx(first.modes["hybrid"].metrics["ndcg@2"])


def test_strict_scores_and_rank_run_break_ties_by_order() -> None:
    s = strict_scores([2.0, 2.0, 3.0, float("nan"), 1.0])
    assert all(a > b for a, b in zip(s, s[1:], strict=False)) and s[0] == 2.0 and s[-1] == 1.0
    assert rank_run({"q": {"b": 1.0, "a": 1.0, "c": 5.0}}) == {"q": ["c", "b", "a"]}


def test_queries_without_relevant_judgments_are_listed_not_averaged() -> None:
    qrels = {"q1": {"a": 1}, "q2": {"b": 0}, "qx": {"z": 2}}
    engine = fixture_engine({"q1": [result("a")], "q2": [result("b")], "q3": [result("c")]})
    res = evaluate([_q("q1"), _q("q2"), _q("q3")], qrels, engine)
    assert res.unjudged_queries == [
        {"query_id": "q2", "query": "q2", "reason": "no_relevant_judgment"},
        {"query_id": "q3", "query": "q3", "reason": "no_judgments"},
    ]
    mode = res.modes["hybrid"]
    assert mode.metrics["ndcg@10"] == 1.0 and mode.n["ndcg@10"] == 1 and set(mode.per_query) == {"q1"}
    assert set(mode.run) == {"q1", "q2", "q3"}  # unjudged queries still run: the saved run can be judged
    assert any("qx" in w for w in res.warnings)


def test_eligible_and_constraint_satisfaction() -> None:
    gold = parse_constraints({"color": "red", "price_max": {"amount": 2000, "currency": "USD"}}, "t")
    hits = [
        result("a", options={"Colour": "Red / White"}, price=1500),  # meets both
        result("b", options={"Color": "Blue"}, price=1500, eligible=False, reasons=["out_of_stock"]),
        result("c", options={"Color": "Red"}, price=2500),  # too expensive
        result("d", options={"Color": "red"}, price=2000, currency="USD"),  # bound is inclusive
    ]
    res = evaluate([_q("q1", constraints=gold), _q("q2")], {"q1": {"a": 1}, "q2": {"a": 1}},
                   fixture_engine({"q1": hits, "q2": hits}))
    mode = res.modes["hybrid"]
    assert mode.per_query["q1"]["constraint_sat@10"] == pytest.approx(2 / 4)
    assert mode.per_query["q2"]["constraint_sat@10"] is None  # no constraints: left out
    assert mode.n["constraint_sat@10"] == 1
    assert mode.metrics["eligible@10"] == pytest.approx(3 / 4)
    assert mode.unmet == {"color": 1, "price_max": 1}
    assert res.queries["q1"]["has_constraints"] and not res.queries["q2"]["has_constraints"]


def test_constraints_argument_replaces_the_queries_file_reading() -> None:
    in_file = parse_constraints({"color": "blue"}, "t")
    given = {"q1": parse_constraints({"color": "red"}, "t")}
    engine = fixture_engine({"q1": [result("a", options={"Color": "Red"})]})
    res = evaluate([_q("q1", constraints=in_file)], {"q1": {"a": 1}}, engine, constraints=given)
    assert res.modes["hybrid"].metrics["constraint_sat@10"] == 1.0


def test_requests_carry_context_filters_mode_and_follow_cursors() -> None:
    calls: list[SearchRequest] = []
    rows = [result(f"d{i}", 500 - i) for i in range(250)]
    engine = fixture_engine({"q1": rows}, calls=calls)
    q = _q("q1", context=Context(country="CA"))
    res = evaluate([q], {"q1": {"d149": 1}}, engine, modes=("bm25", "dense"), depth=150)
    assert {c.mode for c in calls} == {"bm25", "dense"}
    assert all(c.context.country == "CA" and c.limit <= 100 for c in calls)
    assert [c.cursor for c in calls if c.mode == "bm25"] == [None, None, "100"]  # the untimed warm-up, then pages
    assert [c.limit for c in calls if c.mode == "bm25"][0] == 1
    assert len(res.modes["bm25"].run["q1"]) == 150
    assert res.modes["bm25"].metrics["recall@150"] == 1.0


def test_engine_refusal_scores_empty_and_is_listed() -> None:
    engine = fixture_engine({"ok": [result("a")]}, refuse={"bad"})
    res = evaluate([_q("q1", "ok"), _q("q2", "bad")], {"q1": {"a": 1}, "q2": {"a": 1}}, engine)
    mode = res.modes["hybrid"]
    assert mode.per_query["q2"]["ndcg@10"] == 0.0 and mode.per_query["q2"]["judged@10"] is None
    assert "bad_request" in mode.failed["q2"]
    assert mode.metrics["ndcg@10"] == pytest.approx(0.5)


def test_bad_arguments_are_config_errors() -> None:
    engine = fixture_engine({})
    with pytest.raises(ConfigError):
        evaluate([], {}, engine)
    with pytest.raises(ConfigError):
        evaluate([_q("q1")], {}, engine, modes=("fuzzy",))  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="'q1'"):
        evaluate([_q("q1", "x" * 3000)], {}, engine)


def test_bootstrap_ci_is_seeded_and_brackets_the_mean() -> None:
    values = [0.1, 0.4, 0.35, 0.8, 0.9, 0.0, 0.55]
    a = bootstrap_ci(values, seed=7)
    assert a == bootstrap_ci(values, seed=7)
    assert a != bootstrap_ci(values, seed=8)
    assert a is not None and a[0] < sum(values) / len(values) < a[1]
    assert bootstrap_ci([0.5]) is None


def test_modes_are_compared_pairwise_with_a_paired_t_test() -> None:
    qrels = {f"q{i}": {"a": 1, "b": 1} for i in range(6)}
    bm25 = {f"q{i}": [result("z"), result("a")] if i % 2 else [result("z"), result("y"), result("a")]
            for i in range(6)}
    hybrid = {f"q{i}": [result("a"), result("b")] if i < 5 else [result("z"), result("a")] for i in range(6)}
    engine = fixture_engine({}, by_mode={"bm25": bm25, "hybrid": hybrid})
    res = evaluate([_q(f"q{i}") for i in range(6)], qrels, engine, modes=("hybrid", "bm25"))
    cmp = {c.metric: c for c in res.comparisons}
    assert {(c.control, c.treatment) for c in res.comparisons} == {("bm25", "hybrid")}
    c = cmp["ndcg@10"]
    x = [res.modes["bm25"].per_query[f"q{i}"]["ndcg@10"] or 0.0 for i in range(6)]
    y = [res.modes["hybrid"].per_query[f"q{i}"]["ndcg@10"] or 0.0 for i in range(6)]
    assert c.p_value == pytest.approx(ttest_rel(x, y).pvalue)
    assert c.delta == pytest.approx(sum(y) / 6 - sum(x) / 6) and c.n == 6 and c.significant
    assert c.ci is not None and c.ci[0] <= c.delta <= c.ci[1]
    same = cmp["eligible@10"]  # identical on every query: no difference, p = 1 (not NaN)
    assert same.p_value == 1.0 and same.delta == 0


def test_baseline_comparison_covers_ranking_metrics_only() -> None:
    qrels = {"q1": {"a": 1}, "q2": {"b": 2}}
    engine = fixture_engine({"q1": [result("a")], "q2": [result("x"), result("b")]})
    res = evaluate([_q("q1"), _q("q2")], qrels, engine, baseline={"q1": {"a": 1.0}}, baseline_name="old")
    assert res.baseline is not None and "eligible@10" not in res.baseline.metrics
    assert {c.metric for c in res.comparisons} == {"ndcg@10", "recall@100", "mrr@10", "p@10", "judged@10"}
    assert all(c.control == "old" and c.treatment == "hybrid" and c.n == 1 for c in res.comparisons)
    assert any("baseline lacks 1" in w for w in res.warnings)
    doc = res.to_dict()
    assert doc["baseline"]["metrics"]["ndcg@10"] == 1.0 and doc["modes"]["hybrid"]["ci"]["ndcg@10"] is not None


def test_a_mode_that_returns_nothing_scores_zero() -> None:
    res = evaluate([_q("q1"), _q("q2")], {"q1": {"a": 1}, "q2": {"b": 2}}, fixture_engine({}))
    m = res.modes["hybrid"]
    assert m.metrics["ndcg@10"] == 0.0 and m.metrics["recall@100"] == 0.0 and m.metrics["judged@10"] is None
    assert m.n["judged@10"] == 0 and m.ci["judged@10"] is None


def test_progress_bar_and_latency() -> None:
    engine = fixture_engine({"q1": [result("a")]})
    events: list = []
    res = evaluate([_q("q1"), _q("q2")], {"q1": {"a": 1}}, engine, progress=events.append)
    assert [(e.kind, e.task) for e in events] == [("start", "eval hybrid"), ("advance", "eval hybrid"),
                                                  ("advance", "eval hybrid"), ("finish", "eval hybrid")]
    assert events[0].total == 2
    lat = res.modes["hybrid"].latency_ms
    assert set(lat) == {"p50", "p95", "max"} and 0 <= lat["p50"] <= lat["p95"] <= lat["max"]
    assert res.to_dict()["modes"]["hybrid"]["latency_ms"] == lat
