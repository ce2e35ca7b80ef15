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

import math
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from pydantic import ValidationError

from indexer.errors import ConfigError, QueryError
from indexer.progress import ProgressCallback, ProgressEvent, no_progress
from search.eval.gold import Constraints, Hit, unmet
from search.eval.io import EvalQuery, Qrels, RunDict
from search.eval.sets import groups_of
from search.schema import MAX_LIMIT, Mode, SearchRequest, SearchResponse

MODES: tuple[Mode, ...] = ("bm25", "dense", "hybrid")
RELEVANT = 1  # grade threshold of the binary metrics (recall, MRR, P)
SIGNIFICANCE = 0.05


@dataclass(frozen=True, slots=True)
class QueryRun:
    """What the engine returned for one query in one mode."""

    hits: tuple[Hit, ...]
    country: str | None = None  # the buyer country the engine answered for
    error: str | None = None  # "code: message" when the engine refused the query


@dataclass(frozen=True)
class ModeResult:
    """Scores of one mode (or of a baseline run)."""

    metrics: dict[str, float | None]  # mean over the queries that have a value
    ci: dict[str, tuple[float, float] | None]
    n: dict[str, int]  # how many queries each mean covers
    per_query: dict[str, dict[str, float | None]]
    run: RunDict  # ranx JSON run, docs in rank order
    failed: dict[str, str] = field(default_factory=dict)  # query_id → engine error
    unmet: dict[str, int] = field(default_factory=dict)  # constraint → top-k variants failing it
    latency_ms: dict[str, float] = field(default_factory=dict)  # per query, all pages: p50, p95, max

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (without the run, which --save-run writes separately)."""
        return {
            "metrics": self.metrics,
            "ci": {m: (list(c) if c else None) for m, c in self.ci.items()},
            "n": self.n,
            "per_query": self.per_query,
            "failed": self.failed,
            "unmet_constraints": self.unmet,
            "latency_ms": self.latency_ms,
        }


@dataclass(frozen=True)
class Comparison:
    """A paired comparison of one metric: ``treatment`` minus ``control`` over shared queries."""

    control: str
    treatment: str
    metric: str
    n: int
    control_mean: float
    treatment_mean: float
    delta: float
    ci: tuple[float, float] | None
    p_value: float | None
    significant: bool
    test: str = "paired t-test (two-sided)"

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        d = dict(self.__dict__)
        d["ci"] = list(self.ci) if self.ci else None
        return d


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


def metric_names(k: int, depth: int) -> list[str]:
    """Output metric names in display order."""
    return [f"ndcg@{k}", f"recall@{depth}", f"mrr@{k}", f"p@{k}", f"judged@{k}", f"constraint_sat@{k}",
            f"eligible@{k}"]


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
    except ValidationError as exc:
        err = exc.errors()[0]
        raise ConfigError(f"query {q.query_id!r}: not a valid search request: {err['loc']}: {err['msg']}") from None


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


def strict_scores(scores: Sequence[float]) -> list[float]:
    """Scores lowered just enough to be strictly decreasing, so sorting by them keeps this order."""
    out: list[float] = []
    for s in scores:
        s = float(s) if math.isfinite(s) else (out[-1] if out else 0.0)
        if out and s >= out[-1]:
            s = math.nextafter(out[-1], -math.inf)
        out.append(s)
    return out


def rank_run(run: RunDict) -> dict[str, list[str]]:
    """Doc ids of each query, best first: score descending, ties in the run's own order."""
    return {q: [d for d, _ in sorted(docs.items(), key=lambda kv: -kv[1])] for q, docs in run.items()}


def bootstrap_ci(values: Sequence[float], *, resamples: int = 1000, seed: int = 0,
                 level: float = 0.95) -> tuple[float, float] | None:
    """Percentile bootstrap interval of the mean (None for fewer than 2 values)."""
    arr = np.asarray(values, dtype=float)
    if arr.size < 2:
        return None
    rng = np.random.default_rng(seed)
    means = arr[rng.integers(0, arr.size, size=(resamples, arr.size))].mean(axis=1)
    a = (1.0 - level) / 2.0
    lo, hi = np.quantile(means, [a, 1.0 - a])
    return float(lo), float(hi)


def _ranx_scores(qrels: Qrels, ranked: dict[str, list[str]], metrics: dict[str, str]) -> dict[str, dict[str, float]]:
    """Per-query ranx metric values ``{our name: {qid: value}}`` for the queries in ``qrels``."""
    from ranx import Qrels as RQrels
    from ranx import Run as RRun
    from ranx import evaluate as ranx_evaluate

    if not any(ranked.get(q) for q in qrels):  # ranx cannot build a run with no documents at all
        return {ours: dict.fromkeys(qrels, 0.0) for ours in metrics}
    run = RRun({q: dict(zip(ranked.get(q, []), strict_scores([0.0] * len(ranked.get(q, []))), strict=True))
                for q in qrels})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numba's uint64 → int64 hash cast notice
        ranx_evaluate(RQrels(qrels), run, list(metrics.values()), return_mean=False)
    # ranx keeps each query's value in the run, keyed by query id (its arrays follow its own order).
    return {ours: {q: float(run.scores[theirs][q]) for q in qrels} for ours, theirs in metrics.items()}


def score_run(ranked: dict[str, list[str]], qrels: Qrels, scored: list[str], *, k: int, depth: int,
              runs: dict[str, QueryRun] | None = None, constraints: dict[str, Constraints] | None = None,
              resamples: int = 1000, seed: int = 0) -> ModeResult:
    """Score one ranking over the ``scored`` queries; ``runs`` (live hits) adds the variant metrics."""
    names = metric_names(k, depth)
    ranx_metrics = {names[0]: f"ndcg@{k}", names[1]: f"recall@{depth}", names[2]: f"mrr@{k}",
                    names[3]: f"precision@{k}"}
    per_metric = _ranx_scores({q: qrels[q] for q in scored}, ranked, ranx_metrics) if scored else {}
    unmet_counts: Counter[str] = Counter()
    per_query: dict[str, dict[str, float | None]] = {}
    for q in scored:
        row: dict[str, float | None] = {m: per_metric[m][q] for m in ranx_metrics}
        top = ranked.get(q, [])[:k]
        row[names[4]] = sum(d in qrels[q] for d in top) / len(top) if top else None
        if runs is not None:
            live = runs[q]
            hits = live.hits[:k]
            row[names[6]] = sum(h.eligible for h in hits) / len(hits) if hits else None
            gold = (constraints or {}).get(q)
            if gold is not None and not gold.empty and hits:
                misses = [unmet(h, gold, country=live.country) for h in hits]
                unmet_counts.update(name for m in misses for name in m)
                row[names[5]] = sum(not m for m in misses) / len(hits)
            else:
                row[names[5]] = None
        per_query[q] = row
    present = [m for m in names if runs is not None or m not in (names[5], names[6])]
    metrics: dict[str, float | None] = {}
    ci: dict[str, tuple[float, float] | None] = {}
    n: dict[str, int] = {}
    for m in present:
        values = [v for v in (per_query[q].get(m) for q in scored) if v is not None]
        metrics[m] = float(np.mean(values)) if values else None
        ci[m] = bootstrap_ci(values, resamples=resamples, seed=seed)
        n[m] = len(values)
    run_out = {q: dict(zip(docs, strict_scores([1.0] * len(docs)), strict=True)) for q, docs in ranked.items()}
    if runs is not None:
        run_out = {q: dict(zip((h.doc_id for h in r.hits), strict_scores([h.score for h in r.hits]), strict=True))
                   for q, r in runs.items()}
    failed = {q: r.error for q, r in (runs or {}).items() if r.error}
    return ModeResult(metrics, ci, n, per_query, run_out, failed, dict(unmet_counts))


def compare(control: str, a: ModeResult, treatment: str, b: ModeResult, *, resamples: int = 1000,
            seed: int = 0) -> list[Comparison]:
    """Paired comparisons of every metric both results have, over the queries both scored."""
    from ranx.statistical_tests import paired_student_t_test

    out: list[Comparison] = []
    for m in a.metrics:
        if m not in b.metrics:
            continue
        qids = [q for q in a.per_query if q in b.per_query
                and a.per_query[q].get(m) is not None and b.per_query[q].get(m) is not None]
        if not qids:
            continue
        x = np.array([a.per_query[q][m] for q in qids], dtype=float)
        y = np.array([b.per_query[q][m] for q in qids], dtype=float)
        diff = y - x
        p: float | None = None
        if len(qids) >= 2:
            if np.allclose(diff, diff[0]) and np.isclose(diff[0], 0.0):
                p = 1.0  # identical on every query: the t statistic is undefined, there is no difference
            elif np.allclose(diff, diff[0]):
                p = 0.0  # the same non-zero difference on every query
            else:
                p = float(paired_student_t_test(x, y, SIGNIFICANCE)[0])
        out.append(Comparison(control, treatment, m, len(qids), float(x.mean()), float(y.mean()),
                              float(diff.mean()), bootstrap_ci(diff, resamples=resamples, seed=seed), p,
                              p is not None and p < SIGNIFICANCE))
    return out


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
    ``progress`` receives one task per mode, counted in queries.
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

    results: dict[str, ModeResult] = {}
    for mode in modes:
        task = f"eval {mode}"
        progress(ProgressEvent("start", task, task, total=len(queries)))
        runs: dict[str, QueryRun] = {}
        took: list[float] = []
        for q in queries:
            start = time.perf_counter()
            runs[q.query_id] = run_one(q, mode, run_query, depth, include_near=include_near)
            took.append((time.perf_counter() - start) * 1000.0)
            progress(ProgressEvent("advance", task, advance=1))
        progress(ProgressEvent("finish", task))
        ranked = {q: [h.doc_id for h in r.hits] for q, r in runs.items()}
        scored_mode = score_run(ranked, qrels, scored, k=k, depth=depth, runs=runs, constraints=gold,
                                resamples=resamples, seed=seed)
        p50, p95 = np.percentile(took, [50, 95])
        results[mode] = replace(scored_mode, latency_ms={"p50": round(float(p50), 2),
                                                         "p95": round(float(p95), 2),
                                                         "max": round(max(took), 2)})
        if results[mode].failed:
            notes.append(f"{mode}: the engine refused {len(results[mode].failed)} queries (scored as empty)")

    comparisons: list[Comparison] = []
    order = [m for m in MODES if m in results]
    for i, control in enumerate(order):  # bm25 → dense → hybrid: the later, richer mode is the treatment
        for treatment in order[i + 1:]:
            comparisons += compare(control, results[control], treatment, results[treatment],
                                   resamples=resamples, seed=seed)
    base: ModeResult | None = None
    if baseline is not None:
        missing = [q for q in scored if q not in baseline]
        if missing:
            notes.append(f"baseline lacks {len(missing)} scored queries (left out of its scores): "
                         f"{', '.join(missing[:10])}")
        base = score_run(rank_run(baseline), qrels, [q for q in scored if q in baseline], k=k, depth=depth,
                         resamples=resamples, seed=seed)
        for mode in order:
            comparisons += compare(baseline_name, base, mode, results[mode], resamples=resamples, seed=seed)
    info = {q.query_id: {"query": q.query, "kind": q.kind, "split": (splits or {}).get(q.query_id),
                         "has_constraints": bool(gold.get(q.query_id) and not gold[q.query_id].empty)}
            for q in queries}
    settings = {"k": k, "depth": depth, "relevant_grade": RELEVANT, "bootstrap_resamples": resamples,
                "seed": seed, "confidence": 0.95, "significance": SIGNIFICANCE, "baseline_name": baseline_name,
                "scored_queries": len(scored), "queries": len(queries), "metrics": metric_names(k, depth),
                "include_near": include_near}
    return EvalResult(results, comparisons, unjudged, info, settings, base, notes)
