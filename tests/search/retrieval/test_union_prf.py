"""Fusion over the union with real scores (``clip=False``) and dense pseudo-relevance feedback (Rocchio)."""

from __future__ import annotations

import numpy as np

from indexer.build.lexical import LexicalIndex
from search.retrieval.retrieve import Ranked, retrieve, rocchio, zscore


def _r(rows: list[int], scores: list[float]) -> Ranked:
    return Ranked(np.array(rows, dtype=np.int64), np.array(scores, dtype=np.float32))


def test_real_scores_sink_a_candidate_the_other_retriever_finds_far_off() -> None:
    # Row 3 is BM25's best but far below the dense list; row 9 is dense's best and BM25's near miss.
    lex_all = np.array([0, 0, 0, 6.0, 0, 0, 0, 0, 0, 4.0])
    den_all = np.array([0.6, 0.55, 0.5, -0.5, 0, 0, 0, 0, 0, 0.7])
    lex = _r([3, 9], [6.0, 4.0])
    den = _r([9, 0, 1, 2], [0.7, 0.6, 0.55, 0.5])
    kw = {"lexical_scores": lambda r: lex_all[r], "dense_scores": lambda r: den_all[r], "depth": 5}
    clipped = zscore(lex, den, **kw)  # type: ignore[arg-type]
    real = zscore(lex, den, clip=False, **kw)  # type: ignore[arg-type]
    assert clipped.rows[0] == 9 and real.rows[0] == 9
    # Clipped, row 3 counts as dense's last hit (0.5); with its real cosine (-0.5) it falls below rows
    # found by dense alone.
    assert clipped.rows.tolist().index(3) < real.rows.tolist().index(3)
    assert real.rows.tolist()[-1] == 3


def test_rocchio_moves_the_query_toward_the_feedback_rows_and_stays_unit() -> None:
    vec = np.eye(4, dtype=np.float32)
    q = np.array([1.0, 0, 0, 0], dtype=np.float32)
    out = rocchio(q, vec, np.array([1]), 0.5)
    assert np.isclose(np.linalg.norm(out), 1.0)
    assert out[1] > 0 and out[0] > out[1]
    assert rocchio(q, vec, np.array([], dtype=np.int64), 0.5) is q
    assert rocchio(q, vec, np.array([1]), 0.0) is q


def test_prf_pulls_in_a_neighbour_of_the_fused_top_that_the_query_vector_misses() -> None:
    # Row 0 matches both the words and the query vector; row 2 shares no words and is orthogonal to the
    # query but is row 0's near twin: one Rocchio step brings it above unrelated rows 3 and 4.
    idx = LexicalIndex.build(["walnut desk lamp", "walnut bowl", "reading light", "garden hose", "rain boots"])
    vec = np.array([[1, 0, 0], [0.2, 0.98, 0], [0.8, 0, 0.6], [0, 0.1, 0.995], [0, 0.995, 0.1]], dtype=np.float32)
    vec /= np.linalg.norm(vec, axis=1, keepdims=True)
    q = np.array([0.6, 0.8, 0], dtype=np.float32)
    kw = dict(mode="hybrid", text="walnut lamp", lexical_index=idx, dense_index=None, vectors=vec,
              encode=lambda _t: q, depth=5, allowed=None, fusion="zscore", exact_threshold=100)
    plain = retrieve(**kw)  # type: ignore[arg-type]
    fed = retrieve(prf=(1, 1.0), **kw)  # type: ignore[arg-type]
    assert plain.rows[0] == 0 and fed.rows[0] == 0
    assert fed.rows.tolist().index(2) < plain.rows.tolist().index(2)
    assert sorted(fed.rows.tolist()) == [0, 1, 2, 3, 4]


def test_prf_is_off_by_default_and_for_single_modes() -> None:
    idx = LexicalIndex.build(["apple bread", "bread cheese", "cheese dates"])
    vec = np.eye(3, dtype=np.float32)
    base = dict(text="bread", lexical_index=idx, dense_index=None, vectors=vec, depth=3, allowed=None,
                encode=lambda _t: np.array([0, 1, 0], dtype=np.float32), fusion="zscore", exact_threshold=10)
    for mode in ("bm25", "dense"):
        a = retrieve(mode=mode, **base)  # type: ignore[arg-type]
        b = retrieve(mode=mode, prf=(2, 0.7), **base)  # type: ignore[arg-type]
        assert a.rows.tolist() == b.rows.tolist()


def test_z_floor_bounds_the_penalty_of_a_real_zero_under_a_flat_list() -> None:
    # BM25: five near-equal hits (sd 0.075), row 9 missing (score 0): unbounded, its z is about -65.
    lex_all = np.zeros(10)
    lex_all[[0, 1, 2, 3, 4]] = [5.0, 4.9, 4.9, 4.8, 4.8]
    den_all = np.full(10, 0.2)
    den_all[9] = 0.8
    lex = _r([0, 1, 2, 3, 4], [5.0, 4.9, 4.9, 4.8, 4.8])
    den = _r([9, 0, 1, 2, 3], [0.8, 0.2, 0.2, 0.2, 0.2])
    kw = {"lexical_scores": lambda r: lex_all[r], "dense_scores": lambda r: den_all[r], "depth": 6, "clip": False}
    real = zscore(lex, den, **kw)  # type: ignore[arg-type]
    floored = zscore(lex, den, z_floor=1.0, **kw)  # type: ignore[arg-type]
    assert real.rows.tolist()[-1] == 9 and float(real.scores[-1]) < -50
    assert float(floored.scores[floored.rows.tolist().index(9)]) > -1.5
