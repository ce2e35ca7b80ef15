"""Query-dependent fusion weights: the multilingual base, a linear fusion model, the z cap (search.retrieval.fusion)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from indexer.build.lexical import LexicalIndex
from search.retrieval.fusion import QUERY_FEATURES, model_weights, query_features, zscore
from search.retrieval.retrieve import Ranked, fusion_weights, retrieve


def _r(rows: list[int], scores: list[float]) -> Ranked:
    return Ranked(np.array(rows, dtype=np.int64), np.array(scores, dtype=np.float32))


def test_model_weights_are_each_row_times_the_features_never_below_zero() -> None:
    g = np.array([1.0, 0.5, 2.0, 0, 0, 0, 0])
    assert model_weights([[1.0], [2.0, 1.0], [1.0, -4.0]], g) == (1.0, 2.5, 0.0)
    assert model_weights([[0.5, 0, 0.25]], g) == (1.0,)


def test_query_features_read_length_confidence_and_agreement() -> None:
    lex = _r([1, 2, 3, 4], [10.0, 2.0, 1.0, 1.0])  # one hit far above its list
    den = _r([1, 5, 6, 7], [0.5, 0.5, 0.5, 0.5])  # flat: no confidence
    g = query_features(4, 0.75, lex, den, 0.5)
    assert len(g) == len(QUERY_FEATURES)
    f = dict(zip(QUERY_FEATURES, g.tolist(), strict=True))
    assert f["bias"] == 1.0 and f["known"] == 0.75 and f["words"] == 0.5 and f["lex_match"] == 0.5
    assert f["lex_top"] > 0.3 and f["dense_top"] == 0.0
    assert f["overlap"] == pytest.approx(0.1)  # one row of the two top 10s in common


def _world() -> tuple[LexicalIndex, np.ndarray, np.ndarray]:
    # rows 0-2 hold the query's word; row 3 does not, but the multilingual vectors put it next to the query
    idx = LexicalIndex.build(["red wool hat", "red hat band", "hat box", "Mütze aus Wolle"])
    vec = np.array([[1, 0, 0], [0.9, 0.44, 0], [0.5, 0.87, 0], [0.6, 0, 0.8]], dtype=np.float32)
    multi = np.array([[0.6, 0.8], [0.0, 1.0], [0.0, 1.0], [1.0, 0.0]], dtype=np.float32)
    return idx, vec / np.linalg.norm(vec, axis=1, keepdims=True), multi


def test_the_default_model_reproduces_the_gated_weights() -> None:
    idx, vec, _ = _world()
    lex, den = _r([0, 1, 2], [3.0, 2.0, 1.0]), _r([0, 1, 2, 3], [1.0, 0.9, 0.5, 0.6])
    kw = {"weights": (1.0, 1.0), "coverage_power": 0.0, "match_power": 0.0, "length_pivot": 0.0}
    for text in ("red hat", "red chapeau hat"):
        gated = fusion_weights(idx, text, text, lex, den, multilingual=(1.0, True, 0.0), model=None, **kw)
        model = fusion_weights(idx, text, text, lex, den, multilingual=(1.0, True, 0.0),
                               model=((1.0,), (1.0,), (1.0, -1.0)), **kw)
        assert gated == pytest.approx(model)
    # every word known: the gate closes; the base keeps a small multilingual weight
    assert fusion_weights(idx, "red hat", "red hat", lex, den, multilingual=(1.0, True, 0.0), model=None, **kw)[2] == 0
    assert fusion_weights(idx, "red hat", "red hat", lex, den, multilingual=(1.0, True, 0.2), model=None,
                          **kw)[2] == pytest.approx(0.2)


def test_the_multilingual_base_lets_the_multilingual_index_speak_when_every_word_is_known() -> None:
    idx, vec, multi = _world()
    q = np.array([1, 0, 0], dtype=np.float32)
    kw = dict(mode="hybrid", text="wool hat", lexical_index=idx, dense_index=None, vectors=vec, encode=lambda _t: q,
              depth=4, allowed=None, fusion="zscore", exact_threshold=100, prf=(0, 0.0),
              multilingual=(multi, lambda _t: np.array([1.0, 0.0], dtype=np.float32), 1.0, True))
    gated = retrieve(**kw)  # type: ignore[arg-type]
    based = retrieve(multilingual_base=2.0, **kw)  # type: ignore[arg-type]
    assert gated.rows.tolist().index(3) > based.rows.tolist().index(3)
    assert based.rows[0] in (0, 3)


def test_z_cap_stops_one_retrievers_outlier_from_outvoting_the_other() -> None:
    # BM25: row 0 six deviations above a flat list of 20; dense: row 1 a little above its list, row 0 below it
    n = 20
    lex_all = np.ones(n)
    lex_all[0] = 20.0
    den_all = np.linspace(0.3, 0.2, n)
    den_all[1], den_all[0] = 0.36, 0.22
    lex = _r(list(range(n)), lex_all.tolist())
    order = np.argsort(-den_all, kind="stable")
    den = _r(order.tolist(), den_all[order].tolist())
    kw = {"lexical_scores": lambda r: lex_all[r], "dense_scores": lambda r: den_all[r], "depth": n, "clip": False}
    assert zscore(lex, den, **kw).rows[0] == 0  # type: ignore[arg-type]
    assert zscore(lex, den, z_cap=2.0, **kw).rows[0] == 1  # type: ignore[arg-type]


@pytest.mark.slow
def test_with_the_real_models_the_base_is_a_small_say_on_queries_already_answered_well(sample_dir: Path) -> None:
    """MiniLM and multilingual USE on data/sample, English queries of words the catalog knows: the gate alone
    leaves the multilingual index silent; the base makes it speak (the order changes) without moving the top 3."""
    from indexer.build.embed import load_encoder
    from indexer.build.lexical import tokenize
    from indexer.build.multilingual import encode, encode_query, multilingual_text
    from indexer.build.text import lexical_text, product_text
    from tests.search.conftest import load_catalog

    products, _ = load_catalog(sample_dir, shopify_base=lambda s: f"https://{s}.example",
                               etsy_api="https://openapi.etsy.com/v3/application")
    enc = load_encoder(None)
    vec = np.asarray(enc.encode([product_text(p) for p in products]), dtype=np.float32)
    multi = encode([multilingual_text(p) for p in products])
    idx = LexicalIndex.build([lexical_text(p) for p in products])
    n = len(products)
    moved = 0
    for text in ("down jacket", "rain jacket", "hiking boots", "backpack"):
        assert all(t in idx.query_terms(text) for t in tokenize(text))  # every word known: the gate is shut
        kw = dict(mode="hybrid", text=text, lexical_index=idx, dense_index=None, vectors=vec,
                  encode=lambda t: np.asarray(enc.encode([t]), dtype=np.float32)[0], depth=n, allowed=None,
                  fusion="zscore", exact_threshold=n + 1, multilingual=(multi, encode_query, 1.0, True))
        gated, based = retrieve(**kw), retrieve(multilingual_base=0.2, **kw)  # type: ignore[arg-type]
        assert set(based.rows[:3].tolist()) == set(gated.rows[:3].tolist()), text
        moved += int(based.rows[:10].tolist() != gated.rows[:10].tolist())
    assert moved >= 1
