"""z-score fusion, the query-dependent lexical weight and the multilingual third signal."""

from __future__ import annotations

import numpy as np

from search.retrieval.retrieve import Ranked, zscore


def _r(rows: list[int], scores: list[float]) -> Ranked:
    return Ranked(np.array(rows, dtype=np.int64), np.array(scores, dtype=np.float32))


def test_a_product_bm25_missed_is_not_buried_by_a_flat_lexical_list() -> None:
    # BM25: five near-equal matches (one common word); dense: row 9 far above its crowd.
    lex_all = np.zeros(10)
    lex_all[[0, 1, 2, 3, 4]] = [5.0, 4.9, 4.9, 4.8, 4.8]
    den_all = np.full(10, 0.2)
    den_all[9] = 0.8
    lex = _r([0, 1, 2, 3, 4], [5.0, 4.9, 4.9, 4.8, 4.8])
    den = _r([9, 0, 1, 2, 3], [0.8, 0.2, 0.2, 0.2, 0.2])
    out = zscore(lex, den, lexical_scores=lambda r: lex_all[r], dense_scores=lambda r: den_all[r], depth=3)
    assert out.rows[:2].tolist() == [0, 9]  # found by both first, then the confident dense hit


def test_third_signal_adds_its_candidates_and_zero_weight_is_ignored() -> None:
    lex_all, den_all, ml_all = np.zeros(6), np.zeros(6), np.zeros(6)
    lex_all[:2] = [2.0, 1.0]
    den_all[:2] = [0.5, 0.4]
    ml_all[5] = 0.9
    lex, den = _r([0, 1], [2.0, 1.0]), _r([0, 1], [0.5, 0.4])
    ml = _r([5, 0], [0.9, 0.0])
    kw = {"lexical_scores": lambda r: lex_all[r], "dense_scores": lambda r: den_all[r], "depth": 6}
    with_ml = zscore(lex, den, third=(ml, lambda r: ml_all[r], 1.0), **kw)  # type: ignore[arg-type]
    assert 5 in with_ml.rows.tolist()
    without = zscore(lex, den, third=(ml, lambda r: ml_all[r], 0.0), **kw)  # type: ignore[arg-type]
    assert 5 not in without.rows.tolist()


def test_lexical_confidence_is_the_known_share_of_query_words() -> None:
    from indexer.build.lexical import LexicalIndex
    from search.retrieval.retrieve import lexical_confidence

    idx = LexicalIndex.build(["red wool hat", "blue scarf"])
    assert lexical_confidence(idx, "red hat") == 1.0
    assert lexical_confidence(idx, "chapeau rouge hat") == 1 / 3


def test_query_weights_follow_the_best_lexical_hit_and_the_query_length() -> None:
    from indexer.build.lexical import LexicalIndex
    from search.retrieval.retrieve import query_weights

    idx = LexicalIndex.build(["red wool hat", "blue scarf for the loft window"])
    top = Ranked(np.array([0]), np.array([1.0], dtype=np.float32))
    assert idx.matched_share("red hat", 0) == 1.0
    assert idx.matched_share("red hat", 1) == 0.0
    assert query_weights(idx, "red hat", top, (1.0, 1.0), 1.0, 0.0) == (1.0, 1.0)
    wl, _ = query_weights(idx, "red hat chapeau rouge", top, (1.0, 1.0), 1.0, 0.0)
    assert wl == 0.5  # the best hit holds 2 of the 4 words
    assert query_weights(idx, "red hat", Ranked.empty(), (1.0, 1.0), 1.0, 0.0)[0] == 0.0
    _, wd = query_weights(idx, "a blind for the sloping roof window in our loft bedroom", top, (1.0, 1.0), 0.0, 4.0)
    assert wd == 7 / 4  # 7 distinct terms (stop words dropped) over a pivot of 4
