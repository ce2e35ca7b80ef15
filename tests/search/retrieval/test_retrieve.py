"""Retrieval: fusion arithmetic, filtered dense search (exact and FAISS selector paths), lexical within rows."""

from __future__ import annotations

import faiss
import numpy as np

from indexer.build.lexical import LexicalIndex
from search.retrieval.retrieve import Ranked, dense, lexical, retrieve, rrf, weighted


def _r(rows, scores=None) -> Ranked:
    rows = np.asarray(rows, dtype=np.int64)
    scores = np.asarray(scores if scores is not None else -np.arange(len(rows)), dtype=np.float32)
    return Ranked(rows, scores)


def test_rrf_sums_reciprocal_ranks() -> None:
    fused = rrf([_r([1, 2, 3]), _r([3, 1])], k=60, depth=10)
    expect = {1: 1 / 61 + 1 / 62, 2: 1 / 62, 3: 1 / 63 + 1 / 61}
    assert fused.rows.tolist() == [1, 3, 2]
    assert np.allclose(fused.scores, [expect[1], expect[3], expect[2]])


def test_rrf_weights_and_depth_and_ties_by_row() -> None:
    fused = rrf([_r([5]), _r([4])], k=60, weights=[1.0, 1.0], depth=10)
    assert fused.rows.tolist() == [4, 5]  # tie → lower row first
    fused = rrf([_r([5]), _r([4])], k=60, weights=[2.0, 1.0], depth=1)
    assert fused.rows.tolist() == [5]
    assert len(rrf([Ranked.empty(), Ranked.empty()], depth=5)) == 0


def test_weighted_fusion_scores_the_union_with_both_retrievers() -> None:
    bm25 = {1: 10.0, 2: 5.0, 3: 0.0}
    cos = {1: 0.0, 2: 0.9, 3: 1.0}
    fused = weighted(_r([1, 2], [10.0, 5.0]), _r([3, 2], [1.0, 0.9]),
                     lexical_scores=lambda rows: np.array([bm25[int(r)] for r in rows]),
                     dense_scores=lambda rows: np.array([cos[int(r)] for r in rows]), depth=5)
    # 1: (1.0 + 0.5) / 2; 2: (0.5 + 0.95) / 2; 3: (0 + 1.0) / 2 — row 2 gets its BM25 score though
    # the lexical list did not need it and its cosine though the dense list ranked it second.
    assert fused.rows.tolist() == [1, 2, 3]
    assert np.allclose(fused.scores, [0.75, 0.725, 0.5])
    lex_only = weighted(_r([1, 2], [10.0, 5.0]), _r([3, 2], [1.0, 0.9]), weights=(1.0, 0.0),
                        lexical_scores=lambda rows: np.array([bm25[int(r)] for r in rows]),
                        dense_scores=lambda rows: np.array([cos[int(r)] for r in rows]), depth=5)
    assert lex_only.rows.tolist() == [1, 2, 3]


def _vectors(n: int = 500, dim: int = 16, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_dense_filtered_paths_agree_with_brute_force() -> None:
    vec = _vectors()
    flat = faiss.IndexFlatIP(vec.shape[1])
    flat.add(vec)
    q = vec[7] * 0.5 + vec[9] * 0.5
    allowed = np.arange(0, 500, 3, dtype=np.int64)
    truth = allowed[np.argsort(-(vec[allowed] @ q), kind="stable")[:10]]
    exact = dense(flat, vec, q, 10, allowed, exact_threshold=10_000)
    selected = dense(flat, vec, q, 10, allowed, exact_threshold=10)  # FAISS IDSelector path
    assert exact.rows.tolist() == truth.tolist()
    assert selected.rows.tolist() == truth.tolist()
    assert set(exact.rows.tolist()) <= set(allowed.tolist())
    unfiltered = dense(flat, vec, q, 5, None, exact_threshold=10)
    assert unfiltered.rows[0] in (7, 9)


def test_dense_hnsw_with_selector_never_leaves_holes() -> None:
    vec = _vectors(2000)
    hnsw = faiss.IndexHNSWFlat(vec.shape[1], 16, faiss.METRIC_INNER_PRODUCT)
    hnsw.add(vec)
    allowed = np.array([3, 1500, 1999], dtype=np.int64)  # very selective
    got = dense(hnsw, vec, vec[3], 10, allowed, exact_threshold=0)
    assert sorted(got.rows.tolist()) == [3, 1500, 1999]
    assert got.rows[0] == 3


def test_lexical_within_allowed_rows() -> None:
    texts = ["red wool beanie", "blue wool beanie", "red cotton scarf", "green hat"]
    idx = LexicalIndex.build(texts)
    assert set(lexical(idx, "red", 10).rows.tolist()) == {0, 2}
    assert lexical(idx, "red", 10, np.array([1, 2], dtype=np.int64)).rows.tolist() == [2]
    assert len(lexical(idx, "   ", 10)) == 0


def test_retrieve_modes() -> None:
    texts = ["red wool beanie", "blue wool beanie", "red cotton scarf", "green hat"]
    idx = LexicalIndex.build(texts)
    vec = _vectors(4, 8)
    calls: list[str] = []

    def enc(t: str) -> np.ndarray:
        calls.append(t)
        return vec[3]

    kw = dict(text="red", lexical_index=idx, dense_index=None, vectors=vec, encode=enc, depth=10, allowed=None)
    assert set(retrieve(mode="bm25", **kw).rows.tolist()) == {0, 2}
    assert calls == []  # bm25 never encodes
    assert retrieve(mode="dense", **kw).rows[0] == 3
    hybrid = retrieve(mode="hybrid", **kw)
    assert set(hybrid.rows.tolist()) == {0, 1, 2, 3}
    w = retrieve(mode="hybrid", fusion="weighted", **kw)
    assert len(w) == 4
