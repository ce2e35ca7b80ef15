"""The BM25 tokenizer and index."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from indexer.build.lexical import LexicalIndex, tokenize
from indexer.build.text import lexical_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("T17100", ["t17100", "17100"]),
        ("XL-200", ["xl-200", "xl200", "xl", "200"]),
        ("Running Shoes for the trail", ["run", "shoe", "trail"]),
        ("T-shirt", ["tshirt", "shirt"]),
        ("500ml", ["500ml", "500", "ml"]),
        ("Café crème", ["cafe", "creme"]),
        ("Father's Day", ["father", "day"]),
        ("Select Cut™", ["select", "cut"]),
        ("", []),
    ],
)
def test_tokenize(text: str, expected: list[str]) -> None:
    assert tokenize(text) == expected


def test_codes_are_not_stemmed_and_queries_match_variants() -> None:
    doc = set(tokenize("EGO Power+ LM2156SP-2 mower"))
    assert "lm2156sp-2" in doc and "lm2156sp2" in doc
    for query in ("LM2156SP-2", "lm2156sp2"):
        assert set(tokenize(query)) <= doc | {""}


DOCS = [
    "EGO Power+ LM2156SP 21 inch self propelled lawn mower",
    "Trail running shoes, waterproof, SKU: TR-200-S TR-200-M",
    "Copper water bottle 950ml, pure copper",
    "Running socks for the trail",
    "Red ceramic mug",
]


@pytest.fixture()
def index() -> LexicalIndex:
    return LexicalIndex.build(DOCS)


def test_search_ranks_and_filters(index: LexicalIndex) -> None:
    rows, scores = index.search("trail running shoes", 10)
    assert rows[0] == 1 and set(rows) == {1, 3}
    assert rows.dtype == np.int64 and scores.dtype == np.float32
    assert np.all(np.diff(scores) <= 0)
    assert index.search("TR-200-M", 3)[0][0] == 1  # a SKU finds its product
    assert index.search("lm2156sp", 3)[0][0] == 0
    assert index.search("copper bottles", 1)[0].tolist() == [2]


def test_allowed_rows_restrict_the_answer(index: LexicalIndex) -> None:
    rows, scores = index.search("trail running", 10, allowed=np.array([3, 4], dtype=np.int64))
    assert rows.tolist() == [3]
    full_rows, full_scores = index.search("trail running", 10)
    assert scores[0] == full_scores[full_rows.tolist().index(3)]  # same score as unrestricted
    assert index.search("trail", 10, allowed=np.array([], dtype=np.int64))[0].size == 0
    assert index.search("trail", 10, allowed=np.array([99, -1, 3]))[0].tolist() == [3]


def test_no_match_and_edge_cases(index: LexicalIndex) -> None:
    assert index.search("zeppelin", 5)[0].size == 0
    assert index.search("", 5)[0].size == 0
    assert index.search("the and of", 5)[0].size == 0
    assert index.search("mug", 0)[0].size == 0
    assert index.scores("zeppelin").shape == (len(DOCS),)


def test_ties_break_by_row() -> None:
    idx = LexicalIndex.build(["blue cup", "blue cup", "blue cup", "green"])
    assert idx.search("blue", 2)[0].tolist() == [0, 1]


def test_save_load_without_pickle(index: LexicalIndex, tmp_path: Path) -> None:
    files = index.save(tmp_path / "lex")
    assert all(f.suffix in (".npy", ".json") for f in files)
    for f in files:
        if f.suffix == ".npy":
            np.load(f, allow_pickle=False)  # plain arrays
    loaded = LexicalIndex.load(tmp_path / "lex")
    a, b = index.search("trail running shoes", 5), loaded.search("trail running shoes", 5)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_allclose(a[1], b[1])


def test_empty_index(tmp_path: Path) -> None:
    idx = LexicalIndex.build([])
    idx.save(tmp_path / "e")
    loaded = LexicalIndex.load(tmp_path / "e")
    assert len(loaded) == 0 and loaded.search("anything", 5)[0].size == 0


def test_real_catalog_search(small_catalog) -> None:
    _, products = small_catalog
    idx = LexicalIndex.build([lexical_text(p) for p in products])
    target = next(p for p in products if "Armchair" in p.title)
    rows, _ = idx.search(target.title, 3)
    assert products[int(rows[0])].title == target.title


def test_scores_are_bm25s_own_to_the_bit(small_catalog) -> None:
    """csc_scores (``out[docs] += data`` per term) against bm25s's ``get_scores_from_ids`` (``numpy.add.at``)."""
    import bm25s

    from indexer.build.bm25 import csc_scores

    _, products = small_catalog
    bm = bm25s.BM25(method="lucene")
    bm.index([tokenize(lexical_text(p)) for p in products], show_progress=False)
    vocab = bm.vocab_dict
    rng = np.random.default_rng(3)
    for _ in range(40):
        ids = [int(i) for i in rng.choice(len(vocab), size=int(rng.integers(1, 6)))]
        ids += ids[:1]  # a word twice counts twice in both
        want = np.asarray(bm.get_scores_from_ids(ids), dtype=np.float32)
        np.testing.assert_array_equal(csc_scores(bm.scores, ids, len(products)), want)
    assert not csc_scores(bm.scores, [], len(products)).any()


def test_scores_of_the_last_text_are_kept_read_only(index: LexicalIndex, tmp_path: Path) -> None:
    index.save(tmp_path / "lex")
    loaded = LexicalIndex.load(tmp_path / "lex")  # memory-mapped postings, read through plain views
    for idx in (index, loaded):
        a = idx.scores("trail running shoes")
        assert idx.scores("trail running shoes") is a and not a.flags.writeable
        b = idx.scores("copper mug")
        assert b is not a and idx.scores("trail running shoes").tolist() == a.tolist()
        with pytest.raises(ValueError):
            a[0] = 1.0
    np.testing.assert_array_equal(index.scores("trail shoes"), loaded.scores("trail shoes"))
