"""Batch relevance evaluation: run judged queries through the engine entry point and score them.

:func:`evaluate` is the one entry point. It sends each query, in each mode, as a
:class:`search.schema.SearchRequest` to ``run_query`` (the CLI passes ``Engine.search``, so evaluation
measures exactly what agents get), then scores the rankings.

Metrics (``k`` is ``--k``, 10 by default; names in the output use the actual numbers):

* ``ndcg@k``: ranx's ``ndcg``, the trec_eval / Järvelin-Kekäläinen form: linear gain = grade,
  discount log2(rank + 1), each query's ideal from all its judgments, unjudged documents gain 0.
* ``recall@<depth>`` (100), ``mrr@k``, ``p@k`` (ranx ``precision``, divides by k): a document is
  relevant when its grade is >= 1.
* ``judged@k``: share of the returned top k that has a judgment (any grade); exposes holes in the
  judgments. ``eligible@k``: share of the returned top k whose ``buy.eligible`` is true.
  ``constraint_sat@k``: share of the returned top-k variants meeting every gold constraint
  (:mod:`search.eval.gold`), only for queries that have constraints. These three divide by
  the number of results returned (at most k); a query with no results has no value for them.

Which queries count: a query is *scored* when it has at least one judgment with grade >= 1.
Queries without judgments, or with only non-relevant ones, still run (so a saved run can be used
to judge them) but are left out of every mean and listed in ``unjudged_queries``. A query the
engine refuses (:class:`QueryError`) scores as an empty result list and is listed in ``failed``.

Ranking and ties: a live run ranks results in the engine's order. Run scores are the engine's
scores, lowered by the smallest float step where needed so that sorting by score reproduces that
order exactly; a saved run therefore scores the same when it is read back (by aisle, ranx or
trec_eval). A loaded run with tied scores is ranked in its file order. A doc_id returned twice
counts once, at its first rank.

Means come with a 95% percentile bootstrap interval (1000 resamples, seeded: reruns give the same
numbers). Comparisons are paired over the queries both sides scored: the mean difference, its
bootstrap interval, and a two-sided paired t-test (ranx's ``paired_student_t_test``; ranx's Fisher
randomisation test is not used because its numba-parallel permutations are not reproducible).
p-values are not corrected for multiple comparisons.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from pydantic import ValidationError

from indexer.errors import AisleError, ConfigError, QueryError
from indexer.progress import ProgressCallback, ProgressEvent, no_progress
from search.eval.gold import Constraints, Hit
from search.eval.io import EvalQuery, Qrels, RunDict
from search.eval.metrics import (
    RELEVANT,
    SIGNIFICANCE,
    Comparison,
    ModeResult,
    QueryRun,
    compare,
    metric_names,
    rank_run,
    score_run,
)
from search.eval.sets import groups_of
from search.schema import MAX_LIMIT, Mode, SearchRequest, SearchResponse
from search.serve.errors import validation_error

MODES: tuple[Mode, ...] = ("bm25", "dense", "hybrid")


@dataclass(frozen=True)
class EvalResult:
    """Everything :func:`evaluate` measured; ``to_dict`` is the ``--json`` / report.json document."""

    modes: dict[str, ModeResult]
    comparisons: list[Comparison]
    unjudged_queries: list[dict[str, str]]
    queries: dict[str, dict[str, Any]]  # query_id → {"query", "kind", "has_constraints"}
    settings: dict[str, Any]
    baseline: ModeResult | None = None
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form: modes, baseline, comparisons, unjudged queries, settings, warnings."""
        return {
            "modes": {m: r.to_dict() for m, r in self.modes.items()},
            "baseline": self.baseline.to_dict() if self.baseline else None,
            "comparisons": [c.to_dict() for c in self.comparisons],
            "unjudged_queries": self.unjudged_queries,
            "queries": self.queries,
            "settings": self.settings,
            "warnings": self.warnings,
            "groups": groups_of(self),
        }


def hit_from_result(result: Any) -> Hit:
    """Reduce a ``schema.Result`` to the fields evaluation reads."""
    v = result.variant
    return Hit(
        doc_id=result.doc_id,
        score=float(result.score),
        options=tuple((str(a), str(b)) for a, b in (v.options or {}).items()),
        price=v.price.amount if v.price is not None else None,
        currency=v.price.currency if v.price is not None else None,
        available=bool(v.available),
        eligible=bool(result.buy.eligible),
        reasons=tuple(result.buy.reasons),
        vendor=result.vendor,
    )


def build_request(q: EvalQuery, mode: Mode, limit: int, cursor: str | None = None, *,
                  include_near: bool = True) -> SearchRequest:
    """The engine request for one query (its context and explicit filters, the mode, one page)."""
    try:
        kwargs: dict[str, Any] = {"query": q.query, "mode": mode, "limit": limit, "cursor": cursor,
                                  "include_near": include_near}
        if q.context is not None:
            kwargs["context"] = q.context
        if q.filters is not None:
            kwargs["filters"] = q.filters
        return SearchRequest(**kwargs)
    except ValidationError as exc:  # worded by the API's one mapping (search.serve.errors), not pydantic
        edge = validation_error(exc.errors(include_url=False, include_input=False))
        raise ConfigError(f"query {q.query_id!r}: not a valid search request: {edge.message}", code=edge.code) from None


def run_one(q: EvalQuery, mode: Mode, run_query: Callable[[SearchRequest], SearchResponse], depth: int, *,
            include_near: bool = True) -> QueryRun:
    """Fetch up to ``depth`` results for one query, following cursors past one page."""
    hits: list[Hit] = []
    cursor: str | None = None
    country: str | None = None
    try:
        while len(hits) < depth:
            resp = run_query(build_request(q, mode, min(MAX_LIMIT, depth - len(hits)), cursor,
                                           include_near=include_near))
            country = country or resp.interpreted.country
            hits.extend(hit_from_result(r) for r in resp.results)
            cursor = resp.next_cursor
            if not cursor or not resp.results:
                break
    except QueryError as exc:
        return QueryRun((), country, f"{exc.code}: {exc.message}")
    seen: set[str] = set()
    unique = [h for h in hits if not (h.doc_id in seen or seen.add(h.doc_id))]  # type: ignore[func-returns-value]
    return QueryRun(tuple(unique[:depth]), country)


def _partition(queries: list[EvalQuery], qrels: Qrels,
               gold: dict[str, Constraints]) -> tuple[list[str], list[dict[str, str]], list[str]]:
    """Scored query ids (a judgment of grade >= RELEVANT), unjudged queries with why, and notes."""
    qids = [q.query_id for q in queries]
    notes: list[str] = []
    unjudged: list[dict[str, str]] = []
    scored: list[str] = []
    for q in queries:
        grades = qrels.get(q.query_id)
        if not grades:
            unjudged.append({"query_id": q.query_id, "query": q.query, "reason": "no_judgments"})
        elif max(grades.values()) < RELEVANT:
            unjudged.append({"query_id": q.query_id, "query": q.query, "reason": "no_relevant_judgment"})
        else:
            scored.append(q.query_id)
    extra = sorted(set(qrels) - set(qids))
    if extra:
        notes.append(f"{len(extra)} judged queries are not in the queries file: {', '.join(extra[:10])}")
    stray = sorted(set(gold) - set(qids))
    if stray:
        notes.append(f"{len(stray)} constrained queries are not in the queries file: {', '.join(stray[:10])}")
    return scored, unjudged, notes


def _warm(q: EvalQuery, mode: Mode, run_query: Callable[[SearchRequest], SearchResponse], include_near: bool) -> None:
    """One untimed request in ``mode`` before the timed ones: what the engine loads on first use (the query
    encoder: seconds) is start-up, not the latency of the first query (it once made dense p95 4 s for a
    20 ms p50). Its answer is discarded; a refusal is the timed run's to report."""
    try:
        run_query(build_request(q, mode, 1, include_near=include_near))
    except AisleError:
        pass


def _run_mode(queries: list[EvalQuery], mode: Mode, run_query: Callable[[SearchRequest], SearchResponse],
              depth: int, include_near: bool, progress: ProgressCallback) -> tuple[dict[str, QueryRun], list[float]]:
    """Every query through the engine in one mode: the runs and each query's time in milliseconds."""
    task = f"eval {mode}"
    progress(ProgressEvent("start", task, task, total=len(queries)))
    _warm(queries[0], mode, run_query, include_near)
    runs: dict[str, QueryRun] = {}
    took: list[float] = []
    for q in queries:
        start = time.perf_counter()
        runs[q.query_id] = run_one(q, mode, run_query, depth, include_near=include_near)
        took.append((time.perf_counter() - start) * 1000.0)
        progress(ProgressEvent("advance", task, advance=1))
    progress(ProgressEvent("finish", task))
    return runs, took


def _mode_comparisons(results: dict[str, ModeResult], *, resamples: int, seed: int) -> list[Comparison]:
    """Every pair of modes, bm25 → dense → hybrid: the later, richer mode is the treatment."""
    order = [m for m in MODES if m in results]
    out: list[Comparison] = []
    for i, control in enumerate(order):
        for treatment in order[i + 1:]:
            out += compare(control, results[control], treatment, results[treatment], resamples=resamples, seed=seed)
    return out


def _query_info(queries: list[EvalQuery], gold: dict[str, Constraints],
                splits: dict[str, str]) -> dict[str, dict[str, Any]]:
    """What the report says of each query: its text, kind, split and whether it states constraints."""
    return {q.query_id: {"query": q.query, "kind": q.kind, "split": splits.get(q.query_id),
                         "has_constraints": bool(gold.get(q.query_id) and not gold[q.query_id].empty)}
            for q in queries}


def evaluate(queries: Iterable[EvalQuery], qrels: Qrels,
             run_query: Callable[[SearchRequest], SearchResponse], *, modes: Sequence[Mode] = ("hybrid",),
             k: int = 10, constraints: dict[str, Constraints] | None = None, depth: int = 100,
             progress: ProgressCallback = no_progress, baseline: RunDict | None = None, baseline_name: str = "baseline",
             resamples: int = 1000, seed: int = 0, include_near: bool = True,
             splits: dict[str, str] | None = None) -> EvalResult:
    """Run every query in every mode through ``run_query`` and score the rankings.

    ``constraints`` (gold, by query id) replaces the constraints read from the queries file when
    given. ``baseline`` is a saved run compared against each mode (ranking metrics and judged@k
    only: a run file has no variants). With several modes, every pair is compared as well.

    ``include_near`` (default True) asks the engine to append near matches (flagged
    ``match.exact=false``) after the exact ones. Ranking metrics judge the whole ranked list an agent
    can show a shopper, and graded judgments count partial matches (grade 1); exact matches always
    rank first either way. ``include_near=False`` scores the engine's strict default answer.
    ``progress``: one task per mode, counted in queries. ``latency_ms`` excludes one untimed warm-up per mode.
    ``splits`` (query id → split name, from :func:`search.eval.sets.load_query_sets`) is echoed per query.
    """
    queries = list(queries)
    if k < 1 or depth < 1:
        raise ConfigError(f"k and depth must be at least 1 (got k={k}, depth={depth})")
    if not queries:
        raise ConfigError("no queries to evaluate")
    for m in modes:
        if m not in MODES:
            raise ConfigError(f"unknown mode {m!r} (choose from {', '.join(MODES)})")
    gold = constraints if constraints is not None else {
        q.query_id: q.constraints for q in queries if q.constraints is not None}
    scored, unjudged, notes = _partition(queries, qrels, gold)
    results: dict[str, ModeResult] = {}
    for mode in modes:
        runs, took = _run_mode(queries, mode, run_query, depth, include_near, progress)
        ranked = {q: [h.doc_id for h in r.hits] for q, r in runs.items()}
        scored_mode = score_run(ranked, qrels, scored, k=k, depth=depth, runs=runs, constraints=gold,
                                resamples=resamples, seed=seed)
        p50, p95 = np.percentile(took, [50, 95])
        results[mode] = replace(scored_mode, latency_ms={"p50": round(float(p50), 2),
                                                         "p95": round(float(p95), 2),
                                                         "max": round(max(took), 2)})
        if results[mode].failed:
            notes.append(f"{mode}: the engine refused {len(results[mode].failed)} queries (scored as empty)")

    comparisons = _mode_comparisons(results, resamples=resamples, seed=seed)
    base: ModeResult | None = None
    if baseline is not None:
        missing = [q for q in scored if q not in baseline]
        if missing:
            notes.append(f"baseline lacks {len(missing)} scored queries (left out of its scores): "
                         f"{', '.join(missing[:10])}")
        base = score_run(rank_run(baseline), qrels, [q for q in scored if q in baseline], k=k, depth=depth,
                         resamples=resamples, seed=seed)
        comparisons += [c for name in MODES if name in results
                        for c in compare(baseline_name, base, name, results[name], resamples=resamples, seed=seed)]
    info = _query_info(queries, gold, splits or {})
    settings = {"k": k, "depth": depth, "relevant_grade": RELEVANT, "bootstrap_resamples": resamples,
                "seed": seed, "confidence": 0.95, "significance": SIGNIFICANCE, "baseline_name": baseline_name,
                "scored_queries": len(scored), "queries": len(queries), "metrics": metric_names(k, depth),
                "include_near": include_near}
    return EvalResult(results, comparisons, unjudged, info, settings, base, notes)
