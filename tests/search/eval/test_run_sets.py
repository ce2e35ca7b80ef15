"""Several query/qrels files as one set; per-group scores; the hybrid-below-best count."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from indexer.errors import ConfigError
from search.eval.sets import load_query_sets, merge_qrels, worse_than_best


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_two_splits_load_as_one_set_with_their_split_names(tmp_path: Path) -> None:
    a = _write(tmp_path / "dev" / "queries.jsonl", [{"query_id": "q1", "query": "hat", "kind": "semantic"}])
    b = _write(tmp_path / "dev2" / "queries.jsonl", [{"query_id": "q2", "query": "scarf"}])
    qs, split = load_query_sets([a, b])
    assert [q.query_id for q in qs] == ["q1", "q2"]
    assert split == {"q1": "dev", "q2": "dev2"}


def test_a_repeated_query_id_is_an_error(tmp_path: Path) -> None:
    a = _write(tmp_path / "dev" / "queries.jsonl", [{"query_id": "q1", "query": "hat"}])
    b = _write(tmp_path / "dev2" / "queries.jsonl", [{"query_id": "q1", "query": "scarf"}])
    with pytest.raises(ConfigError, match="q1"):
        load_query_sets([a, b])


def test_qrels_merge_and_refuse_disagreeing_grades() -> None:
    assert merge_qrels([{"q1": {"d1": 2}}, {"q1": {"d2": 1}, "q2": {"d3": 0}}]) == {
        "q1": {"d1": 2, "d2": 1}, "q2": {"d3": 0}}
    with pytest.raises(ConfigError, match="judged 2 and 1"):
        merge_qrels([{"q1": {"d1": 2}}, {"q1": {"d1": 1}}])


def test_worse_than_best_counts_queries_more_than_the_margin_below() -> None:
    per = {"bm25": {"a": 0.9, "b": 0.1, "c": 0.5}, "dense": {"a": 0.2, "b": 0.8, "c": 0.5},
           "hybrid": {"a": 0.85, "b": 0.6, "c": 0.45}}
    assert worse_than_best(per) == ["b"]
