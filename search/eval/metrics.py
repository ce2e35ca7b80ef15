"""Scoring a ranking: nDCG, recall, MRR, precision (ranx), judged@k, constraint and eligibility shares,
bootstrap intervals and paired comparisons. The metric definitions are documented in :mod:`search.eval.run`.

To add a metric: name it in :func:`metric_names` and compute its per-query value in :func:`score_run`.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from search.eval.gold import Constraints, Hit, unmet
from search.eval.io import Qrels, RunDict

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


def metric_names(k: int, depth: int) -> list[str]:
    """Output metric names in display order."""
    return [f"ndcg@{k}", f"recall@{depth}", f"mrr@{k}", f"p@{k}", f"judged@{k}", f"constraint_sat@{k}",
            f"eligible@{k}"]


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
