"""search.retrieval.filtered.dense_topk: the dense strategy per index type and selectivity (real FAISS indexes)."""

from __future__ import annotations

import faiss
import numpy as np
import pytest

from indexer.build.ivf import build_ivf
from search.retrieval.filtered import EXACT_ROWS_ANN, dense_topk, index_kind

N, DIM = 6000, 32


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    centers = rng.standard_normal((80, DIM)).astype(np.float32)
    x = centers[rng.integers(0, 80, N)] + 0.5 * rng.standard_normal((N, DIM)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    q = centers[rng.integers(0, 80, 40)] + 0.5 * rng.standard_normal((40, DIM)).astype(np.float32)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    return x.astype(np.float32), q.astype(np.float32)


@pytest.fixture(scope="module")
def indexes(data: tuple[np.ndarray, np.ndarray]) -> dict[str, faiss.Index]:
    x, _ = data
    flat = faiss.IndexFlatIP(DIM)
    flat.add(x)
    hnsw = faiss.IndexHNSWFlat(DIM, 16, faiss.METRIC_INNER_PRODUCT)
    hnsw.add(x)
    ivf, _ = build_ivf(x, nlist=64, nprobe=8)
    return {"flat": flat, "hnsw": hnsw, "ivf": ivf}


def _exact(x: np.ndarray, q: np.ndarray, k: int, allowed: np.ndarray | None) -> set[int]:
    rows = np.arange(len(x)) if allowed is None else allowed
    s = x[rows] @ q
    return {int(r) for r in rows[np.argsort(-s, kind="stable")[:k]]}


def _allowed(selectivity: float, seed: int = 2) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(N, size=max(1, int(N * selectivity)), replace=False)).astype(np.int64)


def test_index_kind(indexes: dict[str, faiss.Index]) -> None:
    assert index_kind(None) == "none"
    assert {k: index_kind(v) for k, v in indexes.items()} == {"flat": "flat", "hnsw": "hnsw", "ivf": "ivf"}


@pytest.mark.parametrize("kind", ["none", "flat", "hnsw", "ivf"])
@pytest.mark.parametrize("selectivity", [1.0, 0.3, 0.05, 0.002])
def test_results_are_allowed_sorted_and_recalled(data: tuple[np.ndarray, np.ndarray],
                                                 indexes: dict[str, faiss.Index], kind: str,
                                                 selectivity: float) -> None:
    x, qs = data
    index = None if kind == "none" else indexes[kind]
    allowed = None if selectivity == 1.0 else _allowed(selectivity)
    hits = 0
    total = 0
    for q in qs:
        # exact_threshold=0 forces the index path wherever there is an index
        rows, scores = dense_topk(index, x, q, 10, allowed, exact_threshold=0)
        want = _exact(x, q, 10, allowed)
        assert len(rows) == len(want)
        if allowed is not None:
            assert set(rows.tolist()) <= set(allowed.tolist())
        assert np.all(np.diff(scores) <= 1e-6)
        hits += len(set(rows.tolist()) & want)
        total += len(want)
    assert hits / total >= 0.95, (kind, selectivity, hits / total)


def test_ivf_scores_are_exact_after_reranking(data: tuple[np.ndarray, np.ndarray],
                                              indexes: dict[str, faiss.Index]) -> None:
    x, qs = data
    rows, scores = dense_topk(indexes["ivf"], x, qs[0], 10, None)
    np.testing.assert_allclose(scores, x[rows] @ qs[0], rtol=1e-5, atol=1e-6)


def test_ivf_never_leaves_holes_under_a_tiny_filter(data: tuple[np.ndarray, np.ndarray],
                                                    indexes: dict[str, faiss.Index]) -> None:
    x, qs = data
    allowed = np.array([3, 1500, 4242, 5999], dtype=np.int64)  # probably in lists the query never probes
    for q in qs[:10]:
        rows, _ = dense_topk(indexes["ivf"], x, q, 10, allowed, exact_threshold=0)
        assert sorted(rows.tolist()) == allowed.tolist()


def test_small_allowed_sets_are_scored_exactly(data: tuple[np.ndarray, np.ndarray],
                                               indexes: dict[str, faiss.Index]) -> None:
    x, qs = data
    allowed = _allowed(EXACT_ROWS_ANN / N / 2)
    for q in qs[:5]:
        rows, scores = dense_topk(indexes["ivf"], x, q, 10, allowed)
        assert set(rows.tolist()) == _exact(x, q, 10, allowed)


def test_edge_cases_and_thread_setting_restored(data: tuple[np.ndarray, np.ndarray],
                                                indexes: dict[str, faiss.Index]) -> None:
    x, qs = data
    before = faiss.omp_get_max_threads()
    assert dense_topk(indexes["ivf"], x, qs[0], 0)[0].size == 0
    assert dense_topk(indexes["ivf"], x, qs[0], 10, np.zeros(0, dtype=np.int64))[0].size == 0
    rows, _ = dense_topk(indexes["ivf"], x, qs[0], 500, np.arange(0, N, 20), exact_threshold=0)
    assert len(rows) == 300  # k above the allowed count: every allowed row
    rows, _ = dense_topk(indexes["ivf"], x, qs[0], 200, exact_threshold=0)
    assert len(rows) == 200
    assert faiss.omp_get_max_threads() == before


def test_the_same_allowed_rows_give_the_same_answers(data: tuple[np.ndarray, np.ndarray],
                                                      indexes: dict[str, faiss.Index]) -> None:
    """The same allowed rows, the same array or a copy: the same answers to the bit."""
    x, qs = data
    allowed = _allowed(0.3, seed=5)
    for name in ("ivf", "hnsw"):
        first = [dense_topk(indexes[name], x, q, 10, allowed, exact_threshold=0) for q in qs[:8]]
        again = [dense_topk(indexes[name], x, q, 10, allowed.copy(), exact_threshold=0) for q in qs[:8]]
        for (r1, s1), (r2, s2) in zip(first, again, strict=True):
            assert r1.tolist() == r2.tolist() and s1.tobytes() == s2.tobytes()
    dense_topk(indexes["ivf"], x, qs[0], 10, allowed, exact_threshold=0)
    allowed[: allowed.size // 2] = np.arange(allowed.size // 2)  # changed in place: never the old bitmap
    rows, _ = dense_topk(indexes["ivf"], x, qs[0], 10, allowed, exact_threshold=0)
    assert rows.tolist() == dense_topk(indexes["ivf"], x, qs[0], 10, allowed.copy(), exact_threshold=0)[0].tolist()
    assert set(rows.tolist()) <= set(allowed.tolist())
