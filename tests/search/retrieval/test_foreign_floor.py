"""The dense model's blind spot (``foreign_dense_floor``) and the near list's own clip rule (``near_clip_missing``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import search.retrieval.pipeline as pipeline
from indexer.build.lexical import LexicalIndex
from search.retrieval.retrieve import Ranked, retrieve, zscore
from search.settings import EngineSettings


def _r(rows: list[int], scores: list[float]) -> Ranked:
    return Ranked(np.array(rows, dtype=np.int64), np.array(scores, dtype=np.float32))


def _two_equal_bm25_hits() -> dict[str, Any]:
    # Rows 4 and 5 tie on BM25; both have a cosine far below the dense list (0.05 against 0.4-0.6).
    lex_all = np.array([5.0, 4.0, 3.5, 3.2, 3.0, 3.0, 0.0, 0.0])
    den_all = np.array([0.6, 0.5, 0.5, 0.4, 0.05, 0.05, 0.0, 0.0])
    return {"lex": _r([0, 1, 2, 3, 4, 5], [5.0, 4.0, 3.5, 3.2, 3.0, 3.0]),
            "den": _r([0, 1, 2, 3], [0.6, 0.5, 0.5, 0.4]),
            "lexical_scores": lambda r: lex_all[r], "dense_scores": lambda r: den_all[r], "depth": 8,
            "clip": False}  # the engine's rule for the exact list: real scores


def test_an_unread_row_counts_no_lower_than_the_dense_lists_last_hit() -> None:
    kw = _two_equal_bm25_hits()
    lex, den = kw.pop("lex"), kw.pop("den")
    out = zscore(lex, den, unread=lambda rows: rows == 5, **kw)
    order = out.rows.tolist()
    assert order.index(5) < order.index(4)  # same BM25; row 5's low cosine only says the model cannot read it
    lifted = dict(zip(out.rows.tolist(), out.scores.tolist(), strict=True))
    assert lifted[5] == pytest.approx(lifted[3] - (3.2 - 3.0) / float(lex.scores.std()))  # dense part = row 3's


def test_no_unread_row_leaves_the_fusion_unchanged() -> None:
    kw = _two_equal_bm25_hits()
    lex, den = kw.pop("lex"), kw.pop("den")
    plain = zscore(lex, den, **kw)
    none = zscore(lex, den, unread=lambda rows: np.zeros(rows.shape, dtype=bool), **kw)
    assert plain.rows.tolist() == none.rows.tolist()
    assert np.array_equal(plain.scores, none.scores)


def _spanish_and_english() -> tuple[LexicalIndex, np.ndarray]:
    texts = ["cropped gym tee women", "cropped camiseta mujer", "gym bag", "cropped jacket", "water bottle",
             "tee shirt", "sports top", "yoga tee"]
    langs = ["en", "es", "en", "en", "en", "en", "en", "en"]
    cosines = [1.0, -1.0, 0.6, 0.1, 0.5, 0.55, 0.45, 0.65]  # to the query: the English model cannot read row 1
    vectors = np.zeros((8, 8), dtype=np.float32)
    vectors[:, 0] = cosines
    vectors[np.arange(1, 8), np.arange(1, 8)] = np.sqrt(1.0 - np.square(cosines[1:]))
    return LexicalIndex.build(texts, langs=langs), vectors


@pytest.mark.parametrize("floor", [True, False])
def test_retrieve_lifts_rows_in_another_language_only_with_the_setting(floor: bool) -> None:
    index, vectors = _spanish_and_english()
    q = np.eye(8, dtype=np.float32)[0]
    kw: dict[str, Any] = {"mode": "hybrid", "text": "cropped", "lexical_index": index, "dense_index": None,
                          "vectors": vectors, "encode": lambda _t: q, "depth": 4, "allowed": None,
                          "fusion": "zscore"}
    order = retrieve(foreign_floor=floor, **kw).rows.tolist()
    # "cropped": BM25 finds rows 1, 3 and 0, the Spanish row 1 first; the dense list (depth 4) holds neither 1 nor 3.
    # Floored, row 1's cosine counts as the dense list's last hit (0.55): second, behind row 0, found by both.
    # Unfloored, its -1 sinks it below every English candidate, out of the four.
    assert order[:2] == [0, 1] if floor else 1 not in order


def test_the_near_list_ranks_with_its_own_clip_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[bool] = []

    def spy(*args: Any, settings: Any, **kw: Any) -> Ranked:
        seen.append(settings.clip_missing)
        return Ranked.empty()

    monkeypatch.setattr(pipeline, "rank", spy)
    monkeypatch.setattr(pipeline, "satisfying_mask", lambda *a, **k: None)

    class It:
        constraints = type("C", (), {"merchants": None, "platforms": None})()
        ranking_text = text = "cropped gym t-shirt"

    for near_clip in (True, False):
        settings = EngineSettings(clip_missing=not near_clip, near_clip_missing=near_clip)
        pipeline.near_candidates(None, type("Cat", (), {"n_products": 3})(), "hybrid", It(), None, None,
                                 settings=settings, encode=lambda t: np.zeros(3))
    assert seen == [True, False]
    assert EngineSettings().near_clip_missing and not EngineSettings().clip_missing  # the exact list keeps its rule
