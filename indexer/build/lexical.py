"""BM25 over the product text (bm25s), with a tokenizer that keeps model numbers and SKUs intact.

Tokenizer (:func:`tokenize`, used for documents and queries alike):

* NFKC, lower case, accents folded (``café`` → ``cafe``: merchants and shoppers disagree on them),
  possessive ``'s`` dropped, other apostrophes removed (``don't`` → ``dont``).
* A raw token is a run of letters/digits, possibly joined by ``-``, ``_``, ``.``, ``/``
  (``XL-200``, ``T17100``, ``2.5``, ``vertical_49_slat``, ``red/white``).
* A plain word is dropped if it is one of Lucene's 33 English stop words or a single letter, and
  otherwise stemmed (Snowball English, PyStemmer): ``shoes`` → ``shoe``.
* A token holding a digit is a *code* and is kept whole and unstemmed (``t17100``, ``xl-200``,
  ``500ml``), plus its letter/digit runs (``500ml`` → ``500``, ``ml``) so that ``500 ml`` matches.
* A joined token (``-`` or ``_``) also yields its parts and its concatenation: ``XL-200`` →
  ``xl-200``, ``xl200``, ``xl``, ``200``; ``T-shirt`` → ``tshirt``, ``shirt``. A query for ``XL200``,
  ``XL-200`` or ``xl 200`` therefore finds the product.

Scores: BM25 (Lucene variant, ``k1`` = 1.2, ``b`` = 0.75, the Lucene/Elasticsearch defaults). Only
documents that share at least one term with the query are returned. The index is saved with bm25s's
own ``save`` (``.npy`` + JSON, loaded with ``allow_pickle=False``).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path

import bm25s
import numpy as np
import Stemmer

from indexer.build.bm25 import Triples, lucene_csc, merge, save_triples, term_counts, text_hashes
from indexer.errors import ConfigError

K1 = 1.2
B = 0.75
_TOKEN = re.compile(r"[^\W_]+(?:[-_./][^\W_]+)*")
_CONNECTOR = re.compile(r"[-_./]")
_RUNS = re.compile(r"[^\W\d_]+|\d+")
_POSSESSIVE = re.compile(r"['’]s\b")
_APOSTROPHE = re.compile(r"['’`´]")
_MARKS = re.compile(r"[™®©℠]")  # NFKC would turn "Cut™" into "cuttm"
_STOP = frozenset(bm25s.stopwords.STOPWORDS_EN)
_stemmer = Stemmer.Stemmer("english")
_stem_cache: dict[str, str] = {}


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", _MARKS.sub(" ", text)).lower()
    decomposed = unicodedata.normalize("NFKD", text)
    if decomposed != text:  # only pay the filtering when there are accents
        text = unicodedata.normalize("NFKC", "".join(c for c in decomposed if not unicodedata.combining(c)))
    text = _POSSESSIVE.sub("", text)
    return _APOSTROPHE.sub("", text)


def _stem(word: str) -> str:
    stem = _stem_cache.get(word)
    if stem is None:
        stem = _stemmer.stemWord(word)
        if len(_stem_cache) < 500_000:
            _stem_cache[word] = stem
    return stem


def _word(part: str, out: list[str]) -> None:
    """A part without connectors: a code (has a digit) or a plain word."""
    if any(c.isdigit() for c in part):
        out.append(part)
        runs = _RUNS.findall(part)
        if len(runs) > 1:
            for run in runs:
                _word(run, out)
    elif len(part) > 1 and part not in _STOP:
        out.append(_stem(part))


def tokenize(text: str) -> list[str]:
    """Index/query terms of ``text`` (see the module docstring)."""
    out: list[str] = []
    for token in _TOKEN.findall(_fold(text)):
        if not _CONNECTOR.search(token):
            _word(token, out)
            continue
        parts = [p for p in _CONNECTOR.split(token) if p]
        if any(c.isdigit() for c in token):
            out.append(token)
        if "-" in token or "_" in token:
            joined = re.sub(r"[-_]", "", token)
            if any(c.isdigit() for c in joined):
                out.append(joined)
            else:
                _word(joined, out)
        for part in parts:
            _word(part, out)
    return out


class LexicalIndex:
    """BM25 over documents numbered 0..n-1 (the snapshot rows)."""

    FILES = ("data.csc.index.npy", "indices.csc.index.npy", "indptr.csc.index.npy", "vocab.index.json",
             "params.index.json")

    def __init__(self, bm25: bm25s.BM25, n_docs: int, rebuild: tuple[Triples, Sequence[str], np.ndarray] | None = None,
                 tokenized: int | None = None) -> None:
        self._bm25 = bm25
        self.n_docs = n_docs
        self._rebuild = rebuild  # what the next build reuses (saved beside the bm25s files)
        self.tokenized = n_docs if tokenized is None else tokenized  # documents tokenized by this build
        self._dir: Path | None = None  # where it was loaded from (its term frequencies: postings())

    def __len__(self) -> int:
        return self.n_docs

    @classmethod
    def build(cls, texts: Sequence[str], *, k1: float = K1, b: float = B, keys: Sequence[str] | None = None,
              previous: Path | None = None) -> LexicalIndex:
        """Tokenize and index ``texts`` (row i = ``texts[i]``).

        With ``keys`` (the rows' doc ids, sorted) and ``previous`` (the lexical folder of the previous
        snapshot), only texts that are new or changed since then are tokenized (:func:`indexer.build.bm25.merge`);
        the scores are the same as a build from scratch.
        """
        keys = list(keys) if keys is not None else [f"{i:012d}" for i in range(len(texts))]
        hashes = text_hashes(texts)
        merged = None
        if previous is not None and (previous / "tf.npy").is_file():
            vocab = json.loads((previous / "vocab.index.json").read_text("utf-8"))
            merged = merge(previous, vocab, texts, keys, hashes, tokenize)
        triples, tokenized = merged if merged is not None else (term_counts([tokenize(t) for t in texts]), len(texts))
        bm25 = bm25s.BM25(k1=k1, b=b, method="lucene")
        if texts:
            data, indices, indptr = lucene_csc(triples, k1=k1, b=b)
            bm25.scores = {"data": data, "indices": indices, "indptr": indptr, "num_docs": len(texts)}
            bm25.vocab_dict = {w: i for i, w in enumerate(triples.vocab)}
            bm25.vocab_dict[""] = len(triples.vocab)  # as bm25s: the empty token last, in no document
            bm25.unique_token_ids_set = set(bm25.vocab_dict.values())
            bm25.nonoccurrence_array = None
        return cls(bm25, len(texts), (triples, keys, hashes), tokenized)

    def postings(self) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(vocab, indptr, docs, tf, doc_len)``: the raw term frequencies behind the scores, term-major (term
        ``i``'s documents are ``docs[indptr[i]:indptr[i+1]]``, ascending). What index shards are cut from
        (:mod:`indexer.build.shard_lexical`: they score with the whole catalog's statistics at query time).
        ConfigError for an index saved without them (built before incremental BM25: re-index with ``--full``).
        """
        if not self.n_docs:
            return [], np.zeros(1, np.int64), np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0, np.int32)
        if self._rebuild is not None:
            t = self._rebuild[0]
            order = np.lexsort((t.doc, t.term))
            indptr = np.zeros(len(t.vocab) + 1, dtype=np.int64)
            np.cumsum(np.bincount(t.term, minlength=len(t.vocab)), out=indptr[1:])
            return (list(t.vocab), indptr, t.doc[order].astype(np.int32), t.tf[order].astype(np.int32),
                    t.doc_len.astype(np.int32))
        if self._dir is None or not (self._dir / "tf.npy").is_file():
            raise ConfigError("this snapshot's BM25 index has no term frequencies: re-index with `aisle index --full`")
        vocab_dict = getattr(self._bm25, "vocab_dict", None) or {}
        src = self._bm25.scores
        indptr = np.asarray(src["indptr"], dtype=np.int64)
        vocab = [""] * (len(indptr) - 1)
        for word, i in vocab_dict.items():
            if i < len(vocab):
                vocab[i] = word
        tf = np.load(self._dir / "tf.npy", mmap_mode="r", allow_pickle=False)
        doc_len = np.load(self._dir / "doc_len.npy", allow_pickle=False).astype(np.int32)
        return vocab, indptr, np.asarray(src["indices"], dtype=np.int32), np.asarray(tf, dtype=np.int32), doc_len

    @property
    def params(self) -> dict[str, object]:
        """What the manifest records about this index."""
        return {"library": "bm25s", "version": bm25s.__version__, "method": "lucene",
                "k1": self._bm25.k1, "b": self._bm25.b, "terms": len(getattr(self._bm25, "vocab_dict", {}) or {}),
                "tokenizer": "aisle-v1"}

    def save(self, directory: Path) -> list[Path]:
        """Write the index into ``directory`` (created); returns the files written."""
        directory.mkdir(parents=True, exist_ok=True)
        if self.n_docs:
            self._bm25.save(str(directory), corpus=None, show_progress=False)
            if self._rebuild is not None:
                save_triples(directory, *self._rebuild)
        (directory / "rows.json").write_text(json.dumps({"n_docs": self.n_docs}), "utf-8")
        return sorted(p for p in directory.iterdir() if p.is_file())

    @classmethod
    def load(cls, directory: Path) -> LexicalIndex:
        """Read an index written by :meth:`save` (no pickle). Raises OSError/ValueError when damaged."""
        meta = json.loads((directory / "rows.json").read_text("utf-8"))
        n_docs = int(meta["n_docs"])
        if n_docs == 0:
            return cls(bm25s.BM25(k1=K1, b=B, method="lucene"), 0)
        # mmap: the postings stay on disk, paged in by the queries that read them (the same arrays either way)
        bm25 = bm25s.BM25.load(str(directory), allow_pickle=False, show_progress=False, mmap=True)
        if int(bm25.scores["num_docs"]) != n_docs:
            raise ValueError(f"lexical index has {bm25.scores['num_docs']} documents, expected {n_docs}")
        out = cls(bm25, n_docs)
        out._dir = directory
        return out

    def subset(self, rows: np.ndarray) -> LexicalIndex:
        """The index of documents ``rows`` (sorted, distinct), renumbered 0..len(rows)-1, with *this* index's
        statistics: every stored (term, document) score, IDF and length normalisation included, is the one
        computed over the whole corpus, so a shard's BM25 score of a document equals the whole index's
        (the sharded index, :mod:`indexer.build.shards`). The vocabulary stays the whole corpus's.
        """
        rows = np.asarray(rows, dtype=np.int64)
        src = self._bm25.scores
        bm25 = bm25s.BM25(k1=self._bm25.k1, b=self._bm25.b, method="lucene")
        bm25.vocab_dict = dict(getattr(self._bm25, "vocab_dict", None) or {})
        bm25.nonoccurrence_array = getattr(self._bm25, "nonoccurrence_array", None)  # None for lucene
        if not self.n_docs:
            return LexicalIndex(bm25, 0)
        indices, indptr = np.asarray(src["indices"]), np.asarray(src["indptr"])
        keep = np.isin(indices, rows)
        kept = np.concatenate([[0], np.cumsum(keep)])
        bm25.scores = {"data": np.asarray(src["data"])[keep],
                       "indices": np.searchsorted(rows, indices[keep]).astype(indices.dtype),
                       "indptr": kept[indptr].astype(indptr.dtype), "num_docs": len(rows)}
        return LexicalIndex(bm25, len(rows))

    def query_terms(self, text: str) -> list[str]:
        """The distinct query terms of ``text`` that occur in the index."""
        vocab = getattr(self._bm25, "vocab_dict", None) or {}
        return [t for t in dict.fromkeys(tokenize(text)) if t in vocab and t != ""]

    def matched_share(self, text: str, row: int) -> float:
        """Share of ``text``'s distinct terms (known to the index or not) that document ``row`` contains.

        How much of the query the best lexical hit explains: near 1 for "washi tape", low for a long
        description whose few shared words are common ones (query-dependent fusion weighs BM25 by it).
        """
        words = [t for t in dict.fromkeys(tokenize(text)) if t]
        if not words or not self.n_docs:
            return 0.0
        vocab = getattr(self._bm25, "vocab_dict", None) or {}
        indptr, indices = self._bm25.scores["indptr"], self._bm25.scores["indices"]
        hit = 0
        for t in words:
            i = vocab.get(t)
            if i is not None and np.any(indices[indptr[i]:indptr[i + 1]] == row):
                hit += 1
        return hit / len(words)

    def scores(self, text: str) -> np.ndarray:
        """BM25 score of every row for ``text`` (float32, length ``n_docs``; zeros when nothing matches)."""
        terms = self.query_terms(text)
        if not terms or not self.n_docs:
            return np.zeros(self.n_docs, dtype=np.float32)
        ids = [self._bm25.vocab_dict[t] for t in terms]
        return np.asarray(self._bm25.get_scores_from_ids(ids), dtype=np.float32)

    def search(self, text: str, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Best ``k`` rows for ``text`` as ``(rows int64, scores float32)``, best first, ties by row.

        ``allowed`` (int64 row numbers) restricts the answer to those rows; the cost is the postings
        of the query terms plus ``len(allowed)``. (bm25s's ``weight_mask`` would multiply the same
        full score vector by an N-sized mask built per query; indexing the allowed rows is cheaper.)
        """
        if k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        return best_rows(self.scores(text), k, allowed)


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
