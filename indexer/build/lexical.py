"""BM25 over the product text (bm25s), analysed per language (:mod:`indexer.build.analysis`).

Documents are analysed in their language (given per row; :mod:`indexer.build.language` reads it), queries in
English plus the language their words point to (:meth:`LexicalIndex.query_languages`). The analyser is
recorded in ``rows.json`` and the manifest (``tokenizer``): a snapshot written before per-language analysis
(``aisle-v1``) is read and queried exactly as before, everything in English.

Scores: BM25 (Lucene variant, ``k1`` = 1.2, ``b`` = 0.75, the Lucene/Elasticsearch defaults). Only
documents that share at least one term with the query are returned. The index is saved with bm25s's
own ``save`` (``.npy`` + JSON, loaded with ``allow_pickle=False``). Beside it: ``doc_lang.npy`` (uint8, the
row's language as an index into :data:`LANGUAGES`) and ``lang_df.npy`` (int32, terms × languages: the
documents of each language holding the term), which is what tells a query's language.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import bm25s
import numpy as np

from indexer.build.analysis import (
    ANALYSER,
    ANALYSERS,
    LANGUAGES,
    V1,
    analyse,
    is_tagged,
    tokenize,
)
from indexer.build.bm25 import (
    LabelledTexts,
    Triples,
    best_in_postings,
    best_rows,
    csc_scores,
    lucene_csc,
    merge,
    save_triples,
    term_counts_of,
    text_hashes,
)
from indexer.errors import ConfigError

__all__ = ["ANALYSER", "B", "K1", "LexicalIndex", "V1", "tokenize"]

K1 = 1.2
B = 0.75
_QUERY_CACHE = 256


def _lang_codes(langs: Sequence[str] | None, n: int) -> np.ndarray:
    if langs is None:
        return np.zeros(n, dtype=np.uint8)
    if len(langs) != n:
        raise ValueError(f"{len(langs)} languages for {n} texts")
    unknown = set(langs) - set(LANGUAGES)
    if unknown:
        raise ValueError(f"unsupported analysis language(s): {sorted(unknown)}")
    index = {lang: i for i, lang in enumerate(LANGUAGES)}
    return np.fromiter((index[lang] for lang in langs), dtype=np.uint8, count=n)


def _lang_df(triples: Triples, doc_lang: np.ndarray) -> np.ndarray:
    """int32 (terms, languages): how many documents of each language hold each term."""
    n_terms, n_langs = len(triples.vocab), len(LANGUAGES)
    # one bincount over (term, language) cells: numpy's unbuffered add.at is ~15x slower at 1M products
    cell = np.asarray(triples.term, dtype=np.int64) * n_langs + doc_lang[triples.doc].astype(np.int64)
    return np.bincount(cell, minlength=n_terms * n_langs).reshape(n_terms, n_langs).astype(np.int32)


def _untagged_lengths(t: Triples) -> Triples:
    """``t`` with each document's length counting only its untagged terms (``aisle-v1``'s length: the tagged
    language stems add matches, never length, so an English query's scores stay ``aisle-v1``'s)."""
    untagged = np.fromiter((not is_tagged(w) for w in t.vocab), dtype=bool, count=len(t.vocab))
    if untagged.all():
        return t
    weights = t.tf.astype(np.float64) * untagged[t.term]
    lengths = np.bincount(t.doc, weights=weights, minlength=len(t.doc_len))
    return dataclasses.replace(t, doc_len=np.rint(lengths).astype(np.int64))


def _analysed_by(directory: Path) -> str:
    try:
        return str(json.loads((directory / "rows.json").read_text("utf-8")).get("analyser", V1))
    except (OSError, ValueError):
        return ""


class LexicalIndex:
    """BM25 over documents numbered 0..n-1 (the snapshot rows)."""

    FILES = ("data.csc.index.npy", "indices.csc.index.npy", "indptr.csc.index.npy", "vocab.index.json",
             "params.index.json")

    def __init__(self, bm25: bm25s.BM25, n_docs: int, rebuild: tuple[Triples, Sequence[str], np.ndarray] | None = None,
                 tokenized: int | None = None, *, analyser: str = V1, doc_lang: np.ndarray | None = None,
                 lang_df: np.ndarray | None = None, lang_docs: Sequence[int] | None = None) -> None:
        if analyser not in ANALYSERS:
            raise ValueError(f"unknown lexical analyser {analyser!r} (known: {', '.join(ANALYSERS)})")
        self._bm25 = bm25
        self.n_docs = n_docs
        self._rebuild = rebuild  # what the next build reuses (saved beside the bm25s files)
        self.tokenized = n_docs if tokenized is None else tokenized  # documents tokenized by this build
        self._dir: Path | None = None  # where it was loaded from (its term frequencies: postings())
        self.analyser = analyser
        self.doc_lang = doc_lang  # uint8 per row (index into LANGUAGES); None for aisle-v1
        self._lang_df = lang_df
        # documents per language, the whole corpus's also in a shard (query languages read like the whole index's)
        self._lang_docs = (np.asarray(lang_docs, dtype=np.int64) if lang_docs is not None
                           else np.bincount(doc_lang, minlength=len(LANGUAGES)) if doc_lang is not None
                           else np.zeros(len(LANGUAGES), dtype=np.int64))
        self._groups: dict[str, list[tuple[str, ...]]] = {}
        self._last: tuple[str, np.ndarray] | None = None  # the last text scored, and its scores

    def __len__(self) -> int:
        return self.n_docs

    @classmethod
    def build(cls, texts: Sequence[str], *, k1: float = K1, b: float = B, keys: Sequence[str] | None = None,
              previous: Path | None = None, langs: Sequence[str] | None = None,
              analyser: str = ANALYSER, hashes: np.ndarray | None = None) -> LexicalIndex:
        """Tokenize and index ``texts`` (row i = ``texts[i]``), row i analysed in ``langs[i]`` (English when
        ``langs`` is None; every row in English with ``analyser`` ``aisle-v1``).

        With ``keys`` (the rows' doc ids, sorted) and ``previous`` (the lexical folder of the previous
        snapshot), only texts that are new or changed since then (or whose language changed) are tokenized
        (:func:`indexer.build.bm25.merge`); the scores are the same as a build from scratch. A previous index
        written by another analyser is not reused. ``hashes``: the texts' :func:`text_hashes` when the caller
        knows them (``texts`` may then derive a text only when it is read: only new or changed ones are).
        """
        keys = list(keys) if keys is not None else [f"{i:012d}" for i in range(len(texts))]
        doc_lang = _lang_codes(None if analyser == V1 else langs, len(texts))
        labelled = texts if analyser == V1 else LabelledTexts(texts, [LANGUAGES[c] for c in doc_lang.tolist()])

        def tok(s: str) -> list[str]:
            if analyser == V1:
                return tokenize(s)
            lang, _, text = s.partition("\x1f")
            return tokenize(text, lang)

        # what a document's terms depend on: its text and, per language, its language (mixed into the hash)
        hashes = (text_hashes(texts) if hashes is None else np.asarray(hashes, dtype=np.uint64)) ^ (
            doc_lang.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15))
        merged = None
        if previous is not None and (previous / "tf.npy").is_file() and _analysed_by(previous) == analyser:
            vocab = json.loads((previous / "vocab.index.json").read_text("utf-8"))
            merged = merge(previous, vocab, labelled, keys, hashes, tok)
        triples, tokenized = merged if merged is not None else (term_counts_of(labelled, tok), len(texts))
        triples = _untagged_lengths(triples)
        bm25 = bm25s.BM25(k1=k1, b=b, method="lucene")
        if texts:
            data, indices, indptr = lucene_csc(triples, k1=k1, b=b)
            bm25.scores = {"data": data, "indices": indices, "indptr": indptr, "num_docs": len(texts)}
            bm25.vocab_dict = {w: i for i, w in enumerate(triples.vocab)}
            bm25.vocab_dict[""] = len(triples.vocab)  # as bm25s: the empty token last, in no document
            bm25.unique_token_ids_set = set(bm25.vocab_dict.values())
            bm25.nonoccurrence_array = None
        if analyser == V1:
            return cls(bm25, len(texts), (triples, keys, hashes), tokenized)
        return cls(bm25, len(texts), (triples, keys, hashes), tokenized, analyser=analyser, doc_lang=doc_lang,
                   lang_df=_lang_df(triples, doc_lang))

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

    def term_ids(self) -> dict[str, int]:
        """Term -> column of this index's vocabulary (empty for an index without one: aisle-v1 readers)."""
        return getattr(self._bm25, "vocab_dict", None) or {}

    @property
    def params(self) -> dict[str, object]:
        """What the manifest records about this index."""
        out: dict[str, object] = {
            "library": "bm25s", "version": bm25s.__version__, "method": "lucene", "k1": self._bm25.k1,
            "b": self._bm25.b, "terms": len(getattr(self._bm25, "vocab_dict", {}) or {}), "tokenizer": self.analyser}
        if self.doc_lang is not None:
            out["languages"] = {lang: int(n) for lang, n in zip(LANGUAGES, self._lang_docs.tolist(), strict=True)
                                if n}
        return out

    def save(self, directory: Path) -> list[Path]:
        """Write the index into ``directory`` (created); returns the files written."""
        directory.mkdir(parents=True, exist_ok=True)
        if self.n_docs:
            self._bm25.save(str(directory), corpus=None, show_progress=False)
            if self._rebuild is not None:
                save_triples(directory, *self._rebuild)
        meta: dict[str, object] = {"n_docs": self.n_docs}
        if self.analyser != V1:  # an aisle-v1 index is written as before this field existed
            meta["analyser"] = self.analyser
            meta["lang_docs"] = [int(n) for n in self._lang_docs.tolist()]
            for name, arr in (("doc_lang", self.doc_lang), ("lang_df", self._lang_df)):
                if arr is not None:
                    with open(directory / f"{name}.npy", "wb") as fh:
                        np.save(fh, arr, allow_pickle=False)
        (directory / "rows.json").write_text(json.dumps(meta), "utf-8")
        return sorted(p for p in directory.iterdir() if p.is_file())

    @classmethod
    def load(cls, directory: Path) -> LexicalIndex:
        """Read an index written by :meth:`save` (no pickle). Raises OSError/ValueError when damaged."""
        meta = json.loads((directory / "rows.json").read_text("utf-8"))
        n_docs = int(meta["n_docs"])
        analyser = str(meta.get("analyser", V1))  # written before per-language analysis: English throughout
        arrays: dict[str, Any] = {"doc_lang": None, "lang_df": None}
        lang_docs = meta.get("lang_docs")
        if analyser != V1:
            for name in arrays:  # lang_df (terms x languages, 65 MB at 1M) is read by query terms only: mapped
                if (directory / f"{name}.npy").is_file():
                    arrays[name] = np.load(directory / f"{name}.npy", allow_pickle=False,
                                           mmap_mode="r" if name == "lang_df" else None)
        if n_docs == 0:
            return cls(bm25s.BM25(k1=K1, b=B, method="lucene"), 0, analyser=analyser, lang_docs=lang_docs, **arrays)
        # mmap: the postings stay on disk, paged in by the queries that read them (the same arrays either way)
        bm25 = bm25s.BM25.load(str(directory), allow_pickle=False, show_progress=False, mmap=True)
        if int(bm25.scores["num_docs"]) != n_docs:
            raise ValueError(f"lexical index has {bm25.scores['num_docs']} documents, expected {n_docs}")
        for key in ("data", "indices", "indptr"):  # plain views of the maps: numpy.memmap slices through Python
            if isinstance(bm25.scores.get(key), np.memmap):
                bm25.scores[key] = bm25.scores[key].view(np.ndarray)
        out = cls(bm25, n_docs, analyser=analyser, lang_docs=lang_docs, **arrays)
        out._dir = directory
        return out

    @classmethod
    def reader(cls, directory: Path) -> LexicalIndex:
        """An index of no documents that reads queries as the one saved in ``directory`` does (its analyser,
        vocabulary and per-language document frequencies; no postings): a shard coordinator's."""
        meta = json.loads((directory / "rows.json").read_text("utf-8"))
        analyser = str(meta.get("analyser", V1))
        bm25 = bm25s.BM25(k1=K1, b=B, method="lucene")
        if analyser == V1 or not (directory / "lang_df.npy").is_file():
            return cls(bm25, 0)
        bm25.vocab_dict = json.loads((directory / "vocab.index.json").read_text("utf-8"))
        lang_df = np.load(directory / "lang_df.npy", allow_pickle=False, mmap_mode="r")  # query terms' rows only
        return cls(bm25, 0, analyser=analyser, lang_df=lang_df, lang_docs=meta.get("lang_docs"))

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
        langs: dict[str, Any] = {"analyser": self.analyser, "lang_df": self._lang_df, "lang_docs": self._lang_docs,
                                 "doc_lang": self.doc_lang[rows] if self.doc_lang is not None and self.n_docs else None}
        if not self.n_docs:
            return LexicalIndex(bm25, 0, **langs)
        indices, indptr = np.asarray(src["indices"]), np.asarray(src["indptr"])
        keep = np.isin(indices, rows)
        kept = np.concatenate([[0], np.cumsum(keep)])
        bm25.scores = {"data": np.asarray(src["data"])[keep],
                       "indices": np.searchsorted(rows, indices[keep]).astype(indices.dtype),
                       "indptr": kept[indptr].astype(indptr.dtype), "num_docs": len(rows)}
        return LexicalIndex(bm25, len(rows), **langs)

    def query_languages(self, text: str) -> tuple[str, ...]:
        """The languages ``text`` is analysed in: English, plus the catalog language its words point to.

        (:func:`indexer.build.language.query_languages`); any query on an ``aisle-v1`` index: English alone.
        """
        if self.analyser == V1 or self._lang_df is None:
            return ("en",)
        from indexer.build.language import query_languages

        return query_languages(text, getattr(self._bm25, "vocab_dict", None) or {}, self._lang_df, self._lang_docs)

    def query_groups(self, text: str) -> list[tuple[str, ...]]:
        """The distinct tokens of the query ``text``, each as its variants in :meth:`query_languages`."""
        groups = self._groups.get(text)
        if groups is None:
            groups = [g for g in dict.fromkeys(analyse(text, self.query_languages(text))) if g[0]]
            if len(self._groups) >= _QUERY_CACHE:
                self._groups.clear()
            self._groups[text] = groups
        return groups

    def plan(self, text: str, known: Callable[[str], bool]) -> list[str | tuple[str, ...]]:
        """How ``text`` is scored: its distinct ``known`` terms read in one language, in query order, then its
        words read in two (tuples of variants, each scoring a document by the better one). A shard scores the
        same plan (:meth:`indexer.build.shard_lexical.Postings.scores`)."""
        groups = [[t for t in g if known(t)] for g in self.query_groups(text)]
        single = list(dict.fromkeys(g[0] for g in groups if len(g) == 1))
        return [*single, *dict.fromkeys(tuple(g) for g in groups if len(g) > 1)]

    def coverage(self, text: str) -> float:
        """Share of the query's tokens (any variant) that the index vocabulary knows (1.0 without tokens)."""
        groups = self.query_groups(text)
        if not groups:
            return 1.0
        vocab = getattr(self._bm25, "vocab_dict", None) or {}
        return sum(1 for g in groups if any(t in vocab for t in g)) / len(groups)

    def query_terms(self, text: str) -> list[str]:
        """The distinct query terms of ``text`` that occur in the index."""
        vocab = getattr(self._bm25, "vocab_dict", None) or {}
        return [t for t in dict.fromkeys(t for g in self.query_groups(text) for t in g) if t in vocab and t != ""]

    def matched_share(self, text: str, row: int) -> float:
        """Share of ``text``'s distinct terms (known to the index or not) that document ``row`` contains.

        How much of the query the best lexical hit explains: near 1 for "washi tape", low for a long
        description whose few shared words are common ones (query-dependent fusion weighs BM25 by it).
        """
        groups = self.query_groups(text)
        if not groups or not self.n_docs:
            return 0.0
        vocab = getattr(self._bm25, "vocab_dict", None) or {}
        indptr, indices = self._bm25.scores["indptr"], self._bm25.scores["indices"]
        hit = 0
        for group in groups:  # a word counts once, whichever of its language variants the document holds
            for t in group:
                i = vocab.get(t)
                if i is not None and np.any(indices[indptr[i]:indptr[i + 1]] == row):
                    hit += 1
                    break
        return hit / len(groups)

    def scores(self, text: str) -> np.ndarray:
        """BM25 score of every row for ``text`` (float32, length ``n_docs``, read-only; zeros when nothing matches).

        A query word read in two languages (``cortador``, ``pt:cortador``) scores a document by the better of
        its variants, never both: the tagged stem finds inflections English stemming misses, it does not
        double a word for documents of the query's language. The last text's scores are kept: a hybrid search
        asks twice (its top rows, then every fused candidate's score), ~2 ms each at 1M products.
        """
        last = self._last
        if last is not None and last[0] == text:
            return last[1]
        out = self._scores(text)
        out.setflags(write=False)
        self._last = (text, out)  # one assignment: a concurrent search sees the old pair or the new one
        return out

    def _scores(self, text: str) -> np.ndarray:
        vocab = getattr(self._bm25, "vocab_dict", None) or {}
        plan = self.plan(text, lambda t: t in vocab and t != "") if self.n_docs else []
        single = [t for t in plan if isinstance(t, str)]
        multi = [t for t in plan if not isinstance(t, str)]
        if not plan:
            return np.zeros(self.n_docs, dtype=np.float32)
        sc = self._bm25.scores
        out = csc_scores(sc, [vocab[t] for t in single], self.n_docs)
        for group in multi:
            best = np.zeros(self.n_docs, dtype=np.float32)
            for t in group:
                a, b = int(sc["indptr"][vocab[t]]), int(sc["indptr"][vocab[t] + 1])
                rows = np.asarray(sc["indices"][a:b])
                best[rows] = np.maximum(best[rows], np.asarray(sc["data"][a:b], dtype=np.float32))
            out += best
        return out

    def search(self, text: str, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Best ``k`` rows for ``text`` as ``(rows int64, scores float32)``, best first, ties by row.

        ``allowed`` (int64 row numbers) restricts the answer to those rows; the cost is the postings of the query
        terms plus ``len(allowed)`` (no ``allowed``: the postings alone when short, ``bm25.best_in_postings``)."""
        if k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        if allowed is None and self.n_docs:  # every row allowed: the query terms' postings, not all rows, are read
            vocab = self.term_ids()
            plan = self.plan(text, lambda t: t in vocab and t != "")
            ids = [vocab[t] for p in plan for t in ((p,) if isinstance(p, str) else p)]
            return best_in_postings(self.scores(text), k, self._bm25.scores, ids)
        return best_rows(self.scores(text), k, allowed)
