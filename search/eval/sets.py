"""Several judged sets as one, and scores per group of queries (query kind, split).

* :func:`load_query_sets` reads one or more query files as one set. Each query remembers its *split*:
  the file's folder name (``dev``, ``dev2``), or the file name when two files share a folder. A query
  id that occurs in two files is an error, never a silent overwrite.
* :func:`merge_qrels` merges judgment files; the same (query, document) judged twice with different
  grades is an error (two splits must not disagree silently).
* :func:`group_scores` gives, per group (kind or split), the mean of a metric with its 95% bootstrap
  interval and the number of queries, for every mode.
* :func:`worse_than_best` counts the queries where a fused mode is more than ``margin`` below the better
  of the single modes (the issue's "never much worse than the better retriever" check).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from indexer.errors import ConfigError
from search.eval.io import EvalQuery, Qrels, load_queries


def _split_names(paths: Sequence[Path]) -> list[str]:
    names = [p.parent.name or p.stem for p in paths]
    if len(set(names)) < len(names):
        names = [f"{p.parent.name}/{p.stem}" if p.parent.name else p.stem for p in paths]
    return names


def load_query_sets(paths: Sequence[str | os.PathLike[str]]) -> tuple[list[EvalQuery], dict[str, str]]:
    """Queries of every file in order, and each query id's split name (see the module docstring)."""
    files = [Path(p) for p in paths]
    if not files:
        raise ConfigError("give at least one queries file")
    queries: list[EvalQuery] = []
    split: dict[str, str] = {}
    for path, name in zip(files, _split_names(files), strict=True):
        for q in load_queries(path):
            if q.query_id in split:
                raise ConfigError(f"query id {q.query_id!r} is in {split[q.query_id]!r} and in {name!r}")
            split[q.query_id] = name
            queries.append(q)
    return queries, split


def merge_qrels(parts: Sequence[Qrels]) -> Qrels:
    """One judgment dict from several; a (query, doc) judged with two different grades is an error."""
    out: Qrels = {}
    for part in parts:
        for qid, docs in part.items():
            have = out.setdefault(qid, {})
            for doc, grade in docs.items():
                if doc in have and have[doc] != grade:
                    raise ConfigError(f"{qid} {doc} is judged {have[doc]} and {grade} in two qrels files")
                have[doc] = grade
    return out


def group_scores(result: Any, metric: str, key: str) -> dict[str, dict[str, dict[str, Any]]]:
    """``{group: {mode: {"mean", "ci", "n"}}}`` of ``metric`` for groups ``result.queries[q][key]``."""
    from search.eval.metrics import bootstrap_ci

    groups = sorted({str(v[key]) for v in result.queries.values() if v.get(key)})
    seed = int(result.settings.get("seed", 0))
    resamples = int(result.settings.get("bootstrap_resamples", 1000))
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for g in groups:
        qids = [q for q, v in result.queries.items() if str(v.get(key)) == g]
        out[g] = {}
        for mode, r in result.modes.items():
            vals = [float(v) for v in (r.per_query.get(q, {}).get(metric) for q in qids) if v is not None]
            ci = bootstrap_ci(vals, resamples=resamples, seed=seed)
            out[g][mode] = {"mean": sum(vals) / len(vals) if vals else None, "ci": list(ci) if ci else None,
                            "n": len(vals)}
    return out


def worse_than_best(per_mode: dict[str, dict[str, float]], fused: str = "hybrid",
                    singles: Sequence[str] = ("bm25", "dense"), margin: float = 0.1) -> list[str]:
    """Query ids where ``fused`` is more than ``margin`` below the best of ``singles`` (per-query values)."""
    if fused not in per_mode or any(s not in per_mode for s in singles):
        return []
    out = []
    for q, v in per_mode[fused].items():
        best = max(per_mode[s].get(q, 0.0) for s in singles)
        if v < best - margin - 1e-12:
            out.append(q)
    return sorted(out)


def groups_of(result: Any) -> dict[str, Any]:
    """nDCG@k per query kind and per split with 95% intervals, and the hybrid-below-best queries."""
    metric = f"ndcg@{result.settings.get('k', 10)}"
    per_mode = {m: {q: float(v[metric] or 0.0) for q, v in r.per_query.items()} for m, r in result.modes.items()}
    return {"metric": metric, "by_kind": group_scores(result, metric, "kind"),
            "by_split": group_scores(result, metric, "split"), "hybrid_below_best_by_0.1": worse_than_best(per_mode)}
