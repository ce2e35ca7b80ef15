"""BM25 arrays built with numpy equal bm25s's own build, and an incremental rebuild equals a full one."""

from __future__ import annotations

import random
from pathlib import Path

import bm25s
import numpy as np
import pytest

from indexer.build.lexical import K1, V1, B, LexicalIndex, tokenize
from indexer.build.text import lexical_text
from tests.search.conftest import load_catalog


@pytest.fixture(scope="module")
def corpus(sample_dir: Path) -> tuple[list[str], list[str]]:
    products, _ = load_catalog(sample_dir, shopify_base=lambda s: f"https://{s}.myshopify.com",
                               etsy_api="https://openapi.etsy.com/v3/application")
    products.sort(key=lambda p: p.doc_id)
    return [p.doc_id for p in products], [lexical_text(p) for p in products]


def _queries(texts: list[str]) -> list[str]:
    rng = random.Random(3)
    words = sorted({w for t in texts for w in t.split()})
    return [t[:60] for t in texts[::7]] + [" ".join(rng.sample(words, 3)) for _ in range(60)] + ["XL-200 500ml"]


def _same(a: LexicalIndex, b: LexicalIndex, queries: list[str]) -> None:
    assert len(a) == len(b) and sum(bool(a.scores(q).any()) for q in queries) > len(queries) // 2
    for q in queries:
        assert a.query_terms(q) == b.query_terms(q), q
        assert np.array_equal(a.scores(q), b.scores(q)), q
        assert [x.tolist() for x in a.search(q, 10)] == [x.tolist() for x in b.search(q, 10)], q


def test_numpy_build_equals_bm25s(corpus: tuple[list[str], list[str]]) -> None:
    keys, texts = corpus
    ref = bm25s.BM25(k1=K1, b=B, method="lucene")
    ref.index([tokenize(t) for t in texts], show_progress=False)
    ours = LexicalIndex.build(texts, keys=keys)
    _same(ours, LexicalIndex(ref, len(texts)), _queries(texts))
    assert ours.params["terms"] == len(ref.vocab_dict)


def test_incremental_rebuild_equals_a_full_one(corpus: tuple[list[str], list[str]], tmp_path: Path) -> None:
    keys, texts = corpus
    first = LexicalIndex.build(texts, keys=keys)
    first.save(tmp_path / "v1")
    rng = random.Random(5)
    edited = dict(zip(keys, texts, strict=True))
    changed = rng.sample(keys, 6)
    for k in changed:
        edited[k] += " limited edition zyxwv"  # a word no document had
    for k in rng.sample(sorted(set(keys) - set(changed)), 3):
        del edited[k]
    edited["shopify:zz-new:1"] = "Brand new alpaca mittens, XL-200"
    new_keys = sorted(edited)
    new_texts = [edited[k] for k in new_keys]
    inc = LexicalIndex.build(new_texts, keys=new_keys, previous=tmp_path / "v1")
    assert inc.tokenized == len(changed) + 1
    _same(inc, LexicalIndex.build(new_texts, keys=new_keys), _queries(new_texts) + ["zyxwv alpaca"])
    inc.save(tmp_path / "v2")  # and again from the merged one: the chain keeps working
    again = LexicalIndex.build(new_texts, keys=new_keys, previous=tmp_path / "v2")
    assert again.tokenized == 0
    _same(again, LexicalIndex.load(tmp_path / "v2"), _queries(new_texts))


def test_a_previous_index_without_triples_means_a_full_build(corpus: tuple[list[str], list[str]],
                                                              tmp_path: Path) -> None:
    keys, texts = corpus
    LexicalIndex.build(texts, keys=keys).subset(np.arange(10)).save(tmp_path / "old")  # no tf.npy: older format
    assert LexicalIndex.build(texts, keys=keys, previous=tmp_path / "old").tokenized == len(texts)


def test_incremental_per_language_equals_a_full_one(corpus: tuple[list[str], list[str]], tmp_path: Path) -> None:
    """With languages: a text or a language that changed is re-tokenized; an aisle-v1 index is not reused."""
    keys, texts = corpus
    langs = ["es" if i % 5 == 0 else "fr" if i % 7 == 0 else "en" for i in range(len(texts))]
    queries = _queries(texts) + ["zapatos rojos", "sandalias de piel"]
    LexicalIndex.build(texts, keys=keys, analyser=V1).save(tmp_path / "v1")
    assert LexicalIndex.build(texts, keys=keys, langs=langs, previous=tmp_path / "v1").tokenized == len(texts)
    first = LexicalIndex.build(texts, keys=keys, langs=langs)
    first.save(tmp_path / "v2")
    edited, new_langs = list(texts), list(langs)
    edited[3] += " rojas zapatillas"
    new_langs[10] = "de"  # same text, another language: its tagged stems change
    inc = LexicalIndex.build(edited, keys=keys, langs=new_langs, previous=tmp_path / "v2")
    assert inc.tokenized == 2
    full = LexicalIndex.build(edited, keys=keys, langs=new_langs)
    _same(inc, full, queries)
    for q in queries:
        assert inc.matched_share(q, 3) == full.matched_share(q, 3) and inc.coverage(q) == full.coverage(q)


def test_chunked_term_counts_equal_the_whole_corpus_at_once(corpus: tuple[list[str], list[str]]) -> None:
    from indexer.build.bm25 import term_counts, term_counts_of

    texts = corpus[0]
    whole = term_counts([tokenize(t) for t in texts], ["pre", "existing"])
    for chunk in (1, 7, len(texts) + 5):
        got = term_counts_of(texts, tokenize, ["pre", "existing"], chunk=chunk)
        assert got.vocab == whole.vocab
        for name in ("doc", "term", "tf", "doc_len"):
            assert np.array_equal(getattr(got, name), getattr(whole, name))
    empty = term_counts_of([], tokenize)
    assert empty.doc.size == 0 and empty.doc_len.size == 0 and empty.vocab == []


def test_best_in_postings_is_best_rows(corpus: tuple[list[str], list[str]], monkeypatch: pytest.MonkeyPatch) -> None:
    """The top rows read from the query terms' postings are best_rows's over every row: same rows, same scores to
    the bit, same ties by row (several languages' variants of a word included; the pass over all rows forced off)."""
    from indexer.build import bm25 as m

    monkeypatch.setattr(m, "POSTINGS_SHARE", 1e9)
    _, texts = corpus
    es = LexicalIndex.build(["taza roja de cerámica para café", "camiseta azul de algodón", "red mug ceramic",
                             "blue cotton tshirt", "camisetas rojas", "la taza y el vaso"],
                            langs=["es", "es", "en", "en", "es", "es"])
    assert isinstance(es.plan("camiseta azul", lambda t: t in es.term_ids())[0], tuple)  # a word in two languages
    ties = LexicalIndex.build(["red mug", "red mug", "red mug", "red", "mug", "blue cup", "red mug"])
    for idx, queries in ((LexicalIndex.build(texts), _queries(texts)),
                         (es, ["taza roja de cerámica", "camiseta azul", "tazas rojas para el café", "red mug"]),
                         (ties, ["red mug", "mug red red", "cup", "nothing"])):
        for q in queries:
            s = idx.scores(q)
            for k in (1, 2, 5, 200):
                want, got = m.best_rows(s, k), idx.search(q, k)
                assert np.array_equal(got[0], want[0]) and got[1].tobytes() == want[1].tobytes(), (q, k)
    assert ties.search("red mug", 2)[0].tolist() == [0, 1]
