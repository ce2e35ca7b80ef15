"""A shard's BM25 (term frequencies scored at query time with the catalog's statistics) equals the snapshot's,
bit for bit, also after another shard's documents changed (the statistics move, the shard is not rebuilt)."""

from __future__ import annotations

import numpy as np

from indexer.build.lexical import LexicalIndex
from indexer.build.shard_lexical import LexStats, Postings, split_postings

TEXTS = ["red wool beanie", "blue wool scarf", "walnut cutting board", "XL-200 hiking boots", "wool socks red",
         "trail running shoes", "red red red beanie with pom", "", "board game night", "boots for hiking trails"]
QUERIES = ["red beanie", "wool", "hiking boots xl200", "board", "nothing-known", "trail"]


def _split(texts: list[str], owner: np.ndarray, n: int) -> list[Postings]:
    local = np.zeros(len(texts), dtype=np.int64)
    for k in range(n):
        rows = np.flatnonzero(owner == k)
        local[rows] = np.arange(len(rows))
    return split_postings(LexicalIndex.build(texts), owner, local, n)


def _scores(texts: list[str], owner: np.ndarray, parts: list[Postings]) -> None:
    single = LexicalIndex.build(texts)
    stats = LexStats([(p.vocab, p.df, len(p.doc_len), int(p.doc_len.sum())) for p in parts], 1.2, 0.75)
    for q in QUERIES:
        terms, idf = stats.weights(q)
        assert terms == single.query_terms(q)
        whole = single.scores(q)
        for k, p in enumerate(parts):
            got = p.scores(terms, idf, stats.avg, 1.2, 0.75)
            assert got.dtype == np.float32 and np.array_equal(got, whole[owner == k]), (q, k)


def test_shard_scores_equal_the_single_index_bit_for_bit() -> None:
    owner = np.array([0, 1, 2, 0, 1, 2, 0, 1, 2, 0])
    before = _split(TEXTS, owner, 3)
    _scores(TEXTS, owner, before)
    changed = [*TEXTS[:3], "XL-200 hiking boots waterproof leather", *TEXTS[4:]]  # a shard-0 document changes
    after = _split(changed, owner, 3)
    assert all(np.array_equal(a.tf, b.tf) and a.vocab == b.vocab for a, b in zip(before[1:], after[1:], strict=True))
    _scores(changed, owner, [after[0], *before[1:]])  # shards 1 and 2 not rebuilt: new statistics, same scores


def test_postings_of_a_saved_index_equal_the_built_ones(tmp_path) -> None:  # noqa: ANN001
    built = LexicalIndex.build(TEXTS)
    built.save(tmp_path / "lex")
    loaded = LexicalIndex.load(tmp_path / "lex")
    a, b = built.postings(), loaded.postings()
    assert a[0] == b[0] and all(np.array_equal(x, y) for x, y in zip(a[1:], b[1:], strict=True))


def test_frequencies_keyed_by_the_snapshot_columns_equal_the_dict_of_terms() -> None:
    owner = np.array([0, 1, 2, 0, 1, 2, 0, 1, 2, 0])
    parts = _split(TEXTS, owner, 3)
    counts = [(p.vocab, p.df, len(p.doc_len), int(p.doc_len.sum())) for p in parts]
    plain = LexStats(counts, 1.2, 0.75)
    ids = LexicalIndex.build(TEXTS).term_ids()
    partial = {t: i for t, i in ids.items() if t != "wool"}  # a term the map lacks is counted all the same
    for stats in (LexStats(counts, 1.2, 0.75, ids), LexStats(counts, 1.2, 0.75, partial)):
        assert stats.n_docs == plain.n_docs and stats.avg == plain.avg
        for term in [*ids, "nothing-known"]:
            assert stats.df(term) == plain.df(term)
        assert stats.df("wool") == 3 and stats.df("nothing-known") == 0
        for q in QUERIES:
            assert stats.weights(q) == plain.weights(q)
