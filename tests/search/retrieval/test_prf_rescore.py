"""The Rocchio pass over the first pass's candidates (``EngineSettings.prf_rescore``) on real FAISS indexes."""

from __future__ import annotations

import numpy as np
import pytest

from indexer.build.ivf import build_ivf
from indexer.build.lexical import LexicalIndex
from indexer.errors import ConfigError
from search.engine import EngineSettings
from search.retrieval.retrieve import dense, rescores_candidates, retrieve

N, DIM = 600, 16


@pytest.fixture(scope="module")
def corpus() -> tuple[LexicalIndex, np.ndarray]:
    rng = np.random.default_rng(3)
    words = ["lamp", "desk", "walnut", "bowl", "light", "hose", "boots", "rain", "garden", "chair"]
    texts = [" ".join(rng.choice(words, 3)) for _ in range(N)]
    x = rng.standard_normal((N, DIM)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return LexicalIndex.build(texts), x


def test_the_rule_reads_the_index_kind(corpus: tuple[LexicalIndex, np.ndarray]) -> None:
    import faiss

    _, x = corpus
    ivf, _ = build_ivf(x, nlist=8, nprobe=2)
    flat = faiss.IndexFlatIP(DIM)
    assert rescores_candidates("approximate", ivf) and not rescores_candidates("approximate", flat)
    assert not rescores_candidates("approximate", None) and rescores_candidates("always", None)
    assert not rescores_candidates("never", ivf)


def test_the_candidates_are_scored_exactly() -> None:
    """The Rocchio pass over the candidates: the exact path of :func:`dense` with no index, the candidates allowed."""
    vec = np.eye(4, dtype=np.float32)
    q = np.array([0.1, 0.5, 0.5, 0.9], dtype=np.float32)
    got = dense(None, vec, q, 2, np.array([0, 1, 2], dtype=np.int64))
    assert got.rows.tolist() == [1, 2]  # a tie (0.5, 0.5) broken by row; row 3 was no candidate
    assert len(dense(None, vec, q, 2, np.zeros(0, dtype=np.int64))) == 0


def test_approximate_keeps_an_exact_search_and_always_rescores(corpus: tuple[LexicalIndex, np.ndarray]) -> None:
    idx, x = corpus
    q = x[7] * 0.6 + x[11] * 0.8
    q /= np.linalg.norm(q)
    kw = dict(mode="hybrid", text="walnut lamp", lexical_index=idx, dense_index=None, vectors=x,
              encode=lambda _t: q, depth=50, allowed=None, fusion="zscore", exact_threshold=10_000, prf=(2, 0.3))
    never = retrieve(prf_rescore="never", **kw)  # type: ignore[arg-type]
    approximate = retrieve(prf_rescore="approximate", **kw)  # type: ignore[arg-type]
    always = retrieve(prf_rescore="always", **kw)  # type: ignore[arg-type]
    assert never.rows.tolist() == approximate.rows.tolist()  # no index: exact, so the exact second search
    assert always.rows[0] == never.rows[0] and len(always) == len(never)


def test_an_ivf_index_rescores_the_candidates_only(corpus: tuple[LexicalIndex, np.ndarray]) -> None:
    idx, x = corpus
    ivf, _ = build_ivf(x, nlist=8, nprobe=2)
    q = x[5].copy()
    kw = dict(mode="hybrid", text="garden hose", lexical_index=idx, dense_index=ivf, vectors=x,
              encode=lambda _t: q, depth=40, allowed=None, fusion="zscore", exact_threshold=0, prf=(2, 0.3))
    got = retrieve(prf_rescore="approximate", **kw)  # type: ignore[arg-type]
    lex_rows = set(idx.search("garden hose", 40)[0].tolist())
    den_rows = set(retrieve(**{**kw, "mode": "dense"}).rows.tolist())  # type: ignore[arg-type]
    assert set(got.rows.tolist()) <= lex_rows | den_rows  # nothing the first pass did not find
    assert len(got) == len(lex_rows | den_rows) or len(got) == 40


def test_a_bad_rule_is_refused() -> None:
    with pytest.raises(ConfigError, match="prf_rescore"):
        EngineSettings(prf_rescore="sometimes")
    with pytest.raises(ConfigError, match="kind_compounds"):  # the floor's string setting, checked the same way
        EngineSettings(kind_compounds="some")
