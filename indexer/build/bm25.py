"""BM25 (Lucene variant) arrays computed with numpy, and rebuilt incrementally from the previous snapshot's.

bm25s builds its index with a Python loop per document (a ``Counter`` each) after our tokenizer has run over
every text: at 1M products that was minutes at every build, even when 1% of the products changed. Here:

* :func:`term_counts` turns token lists into ``(doc, term, tf)`` triples and document lengths;
* :func:`lucene_csc` computes the score of every (term, document) pair exactly as bm25s does (same IDF, same
  float64 term-frequency component, stored as float32; CSC by term, documents ascending), vectorised;
* :func:`merge` rebuilds from the previous index's triples (kept beside it: ``tf.npy``, ``doc_len.npy``,
  ``doc_key.npy``, ``doc_hash.npy``): documents whose lexical text is unchanged keep their triples, only new
  or changed documents are tokenized, then the corpus statistics (N, average length, document frequencies)
  are recomputed over the whole corpus and every score with them. BM25 scores depend on corpus-wide
  statistics, so the scores are always recomputed; what is saved is the tokenizing, which is the cost.

The result is the same index a full build gives (``tests/indexer/build/test_bm25.py`` compares the scores of
queries with bm25s's own build); only the internal term numbering differs, which no answer depends on.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Triples:
    """A corpus as (doc, term, tf) triples sorted by doc then term, with the vocabulary and document lengths."""

    doc: np.ndarray  # int64 (E,)
    term: np.ndarray  # int64 (E,)
    tf: np.ndarray  # int32 (E,)
    doc_len: np.ndarray  # int64 (D,) tokens per document, repeats included
    vocab: list[str]  # term id -> term


def text_hashes(texts: Sequence[str]) -> np.ndarray:
    """uint64 (D,): a 64-bit BLAKE2b digest of each text (what tells an unchanged document)."""
    return np.fromiter((int.from_bytes(hashlib.blake2b(t.encode("utf-8"), digest_size=8).digest(), "little")
                        for t in texts), dtype=np.uint64, count=len(texts))


def term_counts(docs: Sequence[Sequence[str]], vocab: list[str] | None = None) -> Triples:
    """Triples of ``docs`` (token lists); new terms are appended to ``vocab`` (a copy)."""
    vocab = list(vocab or [])
    index = {t: i for i, t in enumerate(vocab)}
    lens = np.fromiter((len(d) for d in docs), dtype=np.int64, count=len(docs))
    flat = np.fromiter((index.setdefault(t, len(index)) for d in docs for t in d), dtype=np.int64,
                       count=int(lens.sum()))
    vocab.extend(list(index)[len(vocab):])
    doc_of = np.repeat(np.arange(len(docs), dtype=np.int64), lens)
    width = max(len(index), 1)
    keys, tf = np.unique(doc_of * width + flat, return_counts=True)
    return Triples(keys // width, keys % width, tf.astype(np.int32), lens, vocab)


def term_counts_of(texts: Sequence[str], tokenize: Callable[[str], list[str]], vocab: list[str] | None = None,
                   chunk: int = 20_000) -> Triples:
    """:func:`term_counts` of ``tokenize(t)`` for each text, the same triples (term ids in first-seen order), but
    tokenized ``chunk`` texts at a time: only integer arrays are kept for the whole corpus, never every document's
    token strings (at 1M products those lists were several GB of a build's peak memory)."""
    vocab = list(vocab or [])
    index = {t: i for i, t in enumerate(vocab)}
    lens_parts, flat_parts = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)]
    for start in range(0, len(texts), chunk):
        docs = [tokenize(t) for t in texts[start:start + chunk]]
        lens = np.fromiter((len(d) for d in docs), dtype=np.int64, count=len(docs))
        flat_parts.append(np.fromiter((index.setdefault(t, len(index)) for d in docs for t in d), dtype=np.int64,
                                      count=int(lens.sum())))
        lens_parts.append(lens)
    lens, flat = np.concatenate(lens_parts), np.concatenate(flat_parts)
    vocab.extend(list(index)[len(vocab):])
    doc_of = np.repeat(np.arange(len(lens), dtype=np.int64), lens)
    width = max(len(index), 1)
    keys, tf = np.unique(doc_of * width + flat, return_counts=True)
    return Triples(keys // width, keys % width, tf.astype(np.int32), lens, vocab)


def lucene_csc(t: Triples, *, k1: float, b: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(data float32, indices int32, indptr int64)``: bm25s's ``scores`` arrays for ``t`` (method lucene)."""
    n_docs, n_terms = len(t.doc_len), len(t.vocab)
    avg = np.array(t.doc_len).mean()  # as bm25s: the mean of the int64 lengths
    df = np.bincount(t.term, minlength=n_terms)
    idf = np.zeros(n_terms, dtype=np.float32)
    values, inverse = np.unique(df, return_inverse=True)
    # math.log per distinct df, as bm25s computes it (numpy's log may differ in the last bit)
    per = np.array([math.log(1 + (n_docs - d + 0.5) / (d + 0.5)) if d else 0.0 for d in values.tolist()])
    idf[:] = per[inverse]
    tf = t.tf.astype(np.float32).astype(np.float64)
    const = k1 * ((1 - b) + b * t.doc_len[t.doc].astype(np.float64) / avg)
    scores = (idf[t.term].astype(np.float64) * (tf / (const + tf))).astype(np.float32)
    order = np.lexsort((t.doc, t.term))
    indptr = np.zeros(n_terms + 1, dtype=np.int64)
    np.cumsum(df, out=indptr[1:])
    return scores[order], t.doc[order].astype(np.int32), indptr


def save_triples(directory: Path, t: Triples, keys: Sequence[str], hashes: np.ndarray) -> list[Path]:
    """The per-document data :func:`merge` reads back, aligned with bm25s's CSC entries (term-major)."""
    order = np.lexsort((t.doc, t.term))
    arrays = {"tf": t.tf[order].astype(np.int32), "doc_len": t.doc_len.astype(np.int32),
              "doc_key": np.array([k.encode("utf-8") for k in keys], dtype=bytes) if keys else np.zeros(0, "S1"),
              "doc_hash": hashes}
    out = []
    for name, arr in arrays.items():
        with open(directory / f"{name}.npy", "wb") as fh:
            np.save(fh, arr, allow_pickle=False)
        out.append(directory / f"{name}.npy")
    return out


def _previous(directory: Path, vocab_index: dict[str, int]) -> Triples | None:
    """The triples of a saved index (term ids as in ``vocab_index``), None when it has none."""
    try:
        indptr = np.load(directory / "indptr.csc.index.npy", allow_pickle=False)
        indices = np.load(directory / "indices.csc.index.npy", allow_pickle=False)
        tf = np.load(directory / "tf.npy", allow_pickle=False)
        doc_len = np.load(directory / "doc_len.npy", allow_pickle=False).astype(np.int64)
    except (OSError, ValueError):
        return None
    if tf.shape != indices.shape:
        return None
    term = np.repeat(np.arange(len(indptr) - 1, dtype=np.int64), np.diff(indptr))
    vocab = [""] * (len(indptr) - 1)
    for word, i in vocab_index.items():
        if i < len(vocab):
            vocab[i] = word
    return Triples(indices.astype(np.int64), term, tf.astype(np.int32), doc_len, vocab)


def merge(directory: Path, vocab_index: dict[str, int], texts: Sequence[str], keys: Sequence[str],
          hashes: np.ndarray, tokenize: Callable[[str], list[str]]) -> tuple[Triples, int] | None:
    """The triples of ``texts`` reusing the index saved in ``directory``; ``(triples, tokenized)`` or None when
    there is nothing usable to reuse (then build from scratch)."""
    prev = _previous(directory, vocab_index)
    try:
        old_keys = np.load(directory / "doc_key.npy", allow_pickle=False)
        old_hash = np.load(directory / "doc_hash.npy", allow_pickle=False)
    except (OSError, ValueError):
        return None
    if prev is None or len(old_keys) != len(prev.doc_len) or len(old_hash) != len(old_keys):
        return None
    new_keys = np.array([k.encode("utf-8") for k in keys], dtype=bytes) if keys else np.zeros(0, "S1")
    pos = np.searchsorted(old_keys, new_keys) if len(old_keys) else np.zeros(len(keys), dtype=np.int64)
    pos = np.minimum(pos, max(len(old_keys) - 1, 0))
    same = (old_keys[pos] == new_keys) & (old_hash[pos] == hashes) if len(old_keys) else np.zeros(len(keys), bool)
    new_of_old = np.full(len(old_keys), -1, dtype=np.int64)
    new_of_old[pos[same]] = np.flatnonzero(same)
    keep = new_of_old[prev.doc] >= 0
    fresh = np.flatnonzero(~same)
    added = term_counts([tokenize(texts[i]) for i in fresh.tolist()], prev.vocab)
    doc = np.concatenate([new_of_old[prev.doc[keep]], fresh[added.doc]])
    term = np.concatenate([prev.term[keep], added.term])
    tf = np.concatenate([prev.tf[keep], added.tf])
    doc_len = np.zeros(len(keys), dtype=np.int64)
    doc_len[np.flatnonzero(same)] = prev.doc_len[pos[same]]
    doc_len[fresh] = added.doc_len
    used = np.bincount(term, minlength=len(added.vocab)) > 0  # drop terms no document has any more
    renumber = np.cumsum(used) - 1
    vocab = [w for w, u in zip(added.vocab, used.tolist(), strict=True) if u]
    order = np.lexsort((renumber[term], doc))
    return Triples(doc[order], renumber[term][order], tf[order], doc_len, vocab), len(fresh)


class LabelledTexts(Sequence[str]):
    """``"<language>\x1f<text>"`` of each text (what a per-language analyser tokenizes), made when read."""

    def __init__(self, texts: Sequence[str], langs: Sequence[str]) -> None:
        self._texts, self._langs = texts, langs

    def __len__(self) -> int:
        return len(self._texts)

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        return f"{self._langs[i]}\x1f{self._texts[i]}"


def csc_scores(scores: dict[str, Any], term_ids: Sequence[int], n_docs: int) -> np.ndarray:
    """The BM25 score of every document for ``term_ids`` (float32, ``n_docs``): the sum of each term's stored
    scores (``scores``: bm25s's ``data``/``indices``/``indptr``, CSC by term), term by term.

    bit-identical to bm25s's ``get_scores_from_ids`` (lucene: no non-occurrence part): each term's documents are
    distinct, so ``numpy.add.at`` adds each score once, in the same order; the first term is written, not added
    (``0 + x``, computed without reading the zeros back). numpy >= 1.25's ``ufunc.at`` is the fastest form measured
    at 1M products (docs/benchmarks.md, helper h14e: 1.1 ms a query against 2.1 ms for ``out[docs] += data``)."""
    data, indices, indptr = scores["data"], scores["indices"], scores["indptr"]
    out = np.zeros(n_docs, dtype=np.float32)
    for j, t in enumerate(term_ids):
        a, b = int(indptr[t]), int(indptr[t + 1])
        if j == 0 and data.dtype == np.float32:
            out[indices[a:b]] = data[a:b] + np.float32(0.0)
        else:
            np.add.at(out, indices[a:b], data[a:b])
    return out


def best_rows(scores: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` rows of positive ``scores`` (within ``allowed`` rows) with the highest scores, best first, ties
    by row: ``(rows int64, scores float32)``. (What :meth:`LexicalIndex.search` and a shard's BM25 return.)"""
    if k <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    n_docs = len(scores)
    if allowed is not None:
        allowed = np.asarray(allowed, dtype=np.int64)
        allowed = allowed[(allowed >= 0) & (allowed < n_docs)]
        sub = scores[allowed]
        keep = sub > 0
        rows, vals = allowed[keep], sub[keep]
    else:
        rows = np.flatnonzero(scores > 0).astype(np.int64)
        vals = scores[rows]
    if len(rows) > k:
        # Keep everything tied with the k-th score so that the row tie-break below is exact.
        kth = np.partition(vals, len(vals) - k)[len(vals) - k]
        keep = vals >= kth
        rows, vals = rows[keep], vals[keep]
    order = np.lexsort((rows, -vals))[:k]
    return rows[order].astype(np.int64), vals[order].astype(np.float32)


POSTINGS_SHARE = 0.2  # above this many postings per row, best_in_postings reads every row (measured at 1M)


def best_in_postings(scores: np.ndarray, k: int, csc: dict[str, Any], term_ids: Sequence[int]
                     ) -> tuple[np.ndarray, np.ndarray]:
    """``best_rows(scores, k)`` for ``scores`` that are zero outside the postings of ``term_ids`` (``csc``: bm25s's
    ``indices``/``indptr``), read from those postings instead of a pass over every row when they are short.

    The same rows and scores: a row sits at most once in each term's postings, so the ``k`` x terms best entries
    of the postings (repeats included) hold every row that scores at least the ``k``-th best row; that superset,
    deduplicated, then goes through :func:`best_rows` (its ties by row unchanged)."""
    indptr, indices = csc["indptr"], csc["indices"]
    spans = [(int(indptr[t]), int(indptr[t + 1])) for t in term_ids]
    if k <= 0 or not spans or sum(b - a for a, b in spans) > POSTINGS_SHARE * len(scores):  # one pass is cheaper
        return best_rows(scores, k)
    cand = np.concatenate([indices[a:b] for a, b in spans])
    vals = scores[cand]
    keep = vals > 0
    cand, vals = cand[keep], vals[keep]
    m = k * len(spans)
    if len(vals) > m:
        cand = cand[vals >= np.partition(vals, len(vals) - m)[len(vals) - m]]
    return best_rows(scores, k, np.unique(cand).astype(np.int64))
