"""A shard's BM25: raw term frequencies scored at query time with the whole catalog's statistics.

A snapshot's BM25 stores finished scores, each computed with the corpus-wide IDF and average document length.
An index shard cannot store those: a change in one shard moves the corpus statistics, and every other shard's
stored scores would go stale (all shards rebuilt for one merchant's change). So a shard keeps what does not
depend on the rest of the catalog (:class:`Postings`: per term, its documents and term frequencies; per
document, its length) and the coordinator, which knows every shard's document frequencies
(:class:`LexStats`, a sum over the shards' ``df``: a reduce), sends each query's term weights (IDF) and the
average length with the query. The shard then computes each (term, document) score with the very formula and
float types of :func:`indexer.build.bm25.lucene_csc` and adds them in the query's term order, as bm25s does:
a shard's BM25 score of a document is the single snapshot's, bit for bit.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from indexer.build.lexical import LexicalIndex, tokenize

FILES = ("indptr.npy", "docs.npy", "tf.npy", "doc_len.npy", "vocab.json")


@dataclass(frozen=True)
class Postings:
    """One shard's term frequencies, term-major (terms sorted), documents numbered 0..n-1 (the shard's rows)."""

    vocab: list[str]
    indptr: np.ndarray  # int64 (T+1,)
    docs: np.ndarray  # int32 (E,) ascending within a term
    tf: np.ndarray  # int32 (E,)
    doc_len: np.ndarray  # int32 (D,)
    at: dict[str, int] = field(init=False, repr=False, compare=False)  # term -> vocab position
    cache: dict[str, Any] = field(init=False, repr=False, compare=False)  # length norms for the last avg

    def __post_init__(self) -> None:
        object.__setattr__(self, "at", {t: i for i, t in enumerate(self.vocab)})
        object.__setattr__(self, "cache", {})

    @property
    def df(self) -> np.ndarray:
        """Documents per term (int64, vocab order)."""
        return np.diff(self.indptr)

    def save(self, folder: Path) -> list[Path]:
        """Write the five files into ``folder`` (created)."""
        folder.mkdir(parents=True, exist_ok=True)
        for name in FILES[:4]:
            np.save(folder / name, getattr(self, name.removesuffix(".npy")), allow_pickle=False)
        (folder / "vocab.json").write_text(json.dumps(self.vocab, ensure_ascii=False), "utf-8")
        return [folder / f for f in FILES]

    @classmethod
    def load(cls, folder: Path) -> Postings:
        """Read postings written by :meth:`save` (arrays memory-mapped)."""
        arrays = {n.removesuffix(".npy"): np.load(folder / n, mmap_mode="r", allow_pickle=False) for n in FILES[:4]}
        return cls(json.loads((folder / "vocab.json").read_text("utf-8")), **arrays)

    def _contribution(self, term: str, w: float, avg: float, k1: float, b: float) -> tuple[np.ndarray, np.ndarray]:
        i = self.at.get(term)
        if i is None:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        s, e = int(self.indptr[i]), int(self.indptr[i + 1])
        docs = np.asarray(self.docs[s:e])
        tf = np.asarray(self.tf[s:e]).astype(np.float32).astype(np.float64)
        const = self._norm(avg, k1, b)[docs]
        return docs, (np.float64(np.float32(w)) * (tf / (const + tf))).astype(np.float32)

    def _norm(self, avg: float, k1: float, b: float) -> np.ndarray:
        """``k1 * ((1 - b) + b * length / avg)`` per document, float64 as the snapshot's build computes it; kept
        for the last ``avg`` (it changes only with the catalog): 4x less work per query at 100k products."""
        key = (avg, k1, b)
        if self.cache.get("key") != key:
            self.cache["norm"] = k1 * ((1 - b) + b * np.asarray(self.doc_len).astype(np.float64) / avg)
            self.cache["key"] = key
        return np.asarray(self.cache["norm"])

    def scores(self, terms: Sequence[str | tuple[str, ...]], idf: Sequence[float | tuple[float, ...]], avg: float,
               k1: float, b: float) -> np.ndarray:
        """BM25 of every document for the query ``terms`` weighted by the catalog's ``idf`` (float32 values).

        A tuple of terms (one query word read in two languages, :meth:`LexicalIndex.plan`) adds, per document,
        the best of its variants' scores, as :meth:`LexicalIndex.scores` does."""
        out = np.zeros(len(self.doc_len), dtype=np.float32)
        for term, w in zip(terms, idf, strict=True):
            if isinstance(term, str):
                docs, vals = self._contribution(term, float(w), avg, k1, b)  # type: ignore[arg-type]
                out[docs] += vals  # a term's documents are distinct: np.add.at's result, without its slow path
                continue
            best = np.zeros(len(self.doc_len), dtype=np.float32)
            for t, wt in zip(term, w, strict=True):  # type: ignore[arg-type]
                docs, vals = self._contribution(t, wt, avg, k1, b)
                best[docs] = np.maximum(best[docs], vals)
            out += best
        return out

    def hits(self, words: Sequence[str | tuple[str, ...]], row: int) -> int:
        """How many of ``words`` document ``row`` contains (a tuple of variants: any of them)."""
        at = self.at
        found = 0
        for word in words:
            for variant in (word,) if isinstance(word, str) else word:
                i = at.get(variant)
                if i is not None and np.any(np.asarray(self.docs[int(self.indptr[i]):int(self.indptr[i + 1])]) == row):
                    found += 1
                    break
        return found


def split_postings(lexical: LexicalIndex, owner: np.ndarray, local: np.ndarray, n: int) -> list[Postings]:
    """``lexical``'s postings cut into ``n`` shards: row ``r`` goes to shard ``owner[r]`` as its row ``local[r]``."""
    vocab, indptr, docs, tf, doc_len = lexical.postings()
    term = np.repeat(np.arange(len(vocab), dtype=np.int64), np.diff(indptr))
    shard_of = owner[docs] if len(docs) else np.zeros(0, dtype=np.int64)
    names = np.asarray(vocab, dtype=object)
    out = []
    for k in range(n):
        keep = shard_of == k
        t, d, f = term[keep], local[docs[keep]], tf[keep]
        used = np.unique(t)
        alpha = np.argsort(names[used].astype(str), kind="stable") if len(used) else used
        rank = np.empty(len(used), dtype=np.int64)
        rank[alpha] = np.arange(len(used))
        new_t = rank[np.searchsorted(used, t)]
        order = np.lexsort((d, new_t))
        ptr = np.zeros(len(used) + 1, dtype=np.int64)
        np.cumsum(np.bincount(new_t, minlength=len(used)), out=ptr[1:])
        rows = np.flatnonzero(owner == k)
        lens = np.zeros(len(rows), dtype=np.int32)
        lens[local[rows]] = doc_len[rows]
        out.append(Postings([str(w) for w in names[used][alpha]], ptr, d[order].astype(np.int32),
                            f[order].astype(np.int32), lens))
    return out


def idf(df: int, n_docs: int) -> float:
    """The Lucene IDF of a term in ``df`` of ``n_docs`` documents, rounded to float32 as the snapshot stores it."""
    return float(np.float32(math.log(1 + (n_docs - df + 0.5) / (df + 0.5)))) if df else 0.0


class LexStats:
    """The catalog's BM25 statistics summed over a set of shards: document frequency per term, documents,
    total length (what the coordinator sends with each query; see the module docstring).

    ``ids`` (the coordinator snapshot's term -> column map, :meth:`LexicalIndex.term_ids`, which the coordinator
    holds anyway to read queries) keys the frequencies by column in one int64 array instead of a second dict of
    every term: at 1M products (2.7M terms) 22 MB instead of 286 MB. A term it lacks (or every term, without
    ``ids``) is kept in a dict."""

    def __init__(self, parts: Sequence[tuple[list[str], np.ndarray, int, int]], k1: float, b: float,
                 ids: Mapping[str, int] | None = None) -> None:
        self._ids: Mapping[str, int] = ids or {}
        self._by_id = np.zeros(len(self._ids), dtype=np.int64)
        self._other: dict[str, int] = {}
        self.n_docs = 0
        total = 0
        for vocab, df, n_docs, length in parts:
            counts = np.asarray(df, dtype=np.int64)
            at = np.fromiter((self._ids.get(t, -1) for t in vocab), dtype=np.int64, count=len(vocab))
            ok = (at >= 0) & (at < len(self._by_id))
            self._by_id[at[ok]] += counts[ok]  # a shard's terms are distinct: no repeated index in one add
            for i in np.flatnonzero(~ok).tolist():
                self._other[vocab[i]] = self._other.get(vocab[i], 0) + int(counts[i])
            self.n_docs += n_docs
            total += length
        self.avg = total / self.n_docs if self.n_docs else 1.0  # == numpy's mean of the lengths (exact ints)
        self.k1, self.b = k1, b

    def df(self, term: str) -> int:
        """Documents of the whole catalog containing ``term`` (0 when none)."""
        i = self._ids.get(term, -1)
        return int(self._by_id[i]) if 0 <= i < len(self._by_id) else self._other.get(term, 0)

    @classmethod
    def read(cls, folders: Sequence[Path], k1: float, b: float, ids: Mapping[str, int] | None = None) -> LexStats:
        """Statistics of the shards whose lexical folders are ``folders`` (reads vocabularies and counts only)."""
        parts = []
        for f in folders:
            indptr = np.load(f / "indptr.npy", allow_pickle=False)
            lens = np.load(f / "doc_len.npy", mmap_mode="r", allow_pickle=False)
            parts.append((json.loads((f / "vocab.json").read_text("utf-8")), np.diff(indptr), len(lens),
                          int(np.asarray(lens, dtype=np.int64).sum())))
        return cls(parts, k1, b, ids)

    def query_terms(self, text: str) -> list[str]:
        """The distinct terms of ``text`` some shard holds, in query order (as :meth:`LexicalIndex.query_terms`)."""
        return [t for t in dict.fromkeys(tokenize(text)) if t and self.df(t) > 0]

    def weights(self, text: str) -> tuple[list[str], list[float]]:
        """The query's known terms and their IDF over the whole catalog."""
        terms = self.query_terms(text)
        return terms, [idf(self.df(t), self.n_docs) for t in terms]
