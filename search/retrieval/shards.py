"""Scatter-gather over index shards, behind the same lexical/dense/vectors interface as one snapshot.

Design (why a sharded answer equals the single-snapshot answer on the same data):

* **What is sharded**: the heavy, per-row retrieval state: BM25 postings, vectors and the FAISS index
  (:mod:`indexer.build.shards`; one :class:`ShardIndex` per shard, served by a Ray actor in
  :mod:`search.serve.ray_shards` or in-process by :class:`LocalShard`).
* **What stays global** (the coordinator, :class:`search.serve.sharded.ShardedEngine`): the catalog
  metadata the engine filters and answers with (products, merchants, filter arrays, vocabulary, typo
  dictionary, kind vocabulary), and with it every global decision: query reading, allowed rows, z-score
  fusion (its mean and deviation are over the merged top lists, as in one snapshot), Rocchio feedback,
  the relevance floor, near matches, soft ordering, pagination and cursors (offsets into the same list,
  signed with the same snapshot version).
* **Global statistics**: each shard's BM25 stores the whole catalog's scores (IDF, average length), so a
  shard's score of a row is the single index's. Rows keep the snapshot's numbering (a shard holds a sorted
  subset), so "ties by row" break identically.
* **Merging**: every retriever asks each shard for its own top ``k`` (ties by row) and keeps the best ``k``
  of the union, ties by row: exactly the single index's top ``k`` when each shard's search is exact (BM25
  always; dense with exact scoring or a flat index: up to ``EXACT_MAX_ROWS`` rows per shard). Above that,
  each shard's IVF is approximate on its own, as the single snapshot's is.
* Scores of given rows (fusion scores every candidate with both retrievers) and vectors of given rows
  (fusion, Rocchio, the floor) are gathered from the shards owning them. A search asks only shards that
  own an allowed row, so a merchant-scoped search reaches one shard.

A shard that does not answer (down, or on another snapshot version during a hot swap) raises
:class:`indexer.errors.ShardUnavailableError` in its client; the proxies here record it in the request's
:func:`missing` set and go on without it, and the engine reports ``partial`` and ``missing_shards``.
"""

from __future__ import annotations

import contextvars
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from indexer.build.dense import apply_search_params, read_dense
from indexer.build.lexical import LexicalIndex
from indexer.build.shards import SHARD_FILE
from indexer.errors import ShardUnavailableError
from search.retrieval.filtered import dense_topk

_missing: contextvars.ContextVar[set[int] | None] = contextvars.ContextVar("aisle_missing_shards", default=None)


@contextmanager
def missing() -> Iterator[set[int]]:
    """Collect, for the code run inside, the shard numbers that did not answer."""
    found: set[int] = set()
    token = _missing.set(found)
    try:
        yield found
    finally:
        _missing.reset(token)


def _mark(shard: int) -> None:
    found = _missing.get()
    if found is not None:
        found.add(shard)


def _top(rows: np.ndarray, scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.lexsort((rows, -scores))[:k]
    return rows[order].astype(np.int64), scores[order].astype(np.float32)


class ShardIndex:
    """One shard's BM25, vectors and FAISS index; every row number in and out is a snapshot row."""

    def __init__(self, folder: Path) -> None:
        folder = Path(folder)
        self.info: dict[str, Any] = json.loads((folder / SHARD_FILE).read_text("utf-8"))
        self.shard = int(self.info["shard"])
        self.version = str(self.info["version"])
        self.rows = np.load(folder / "rows.npy", allow_pickle=False)
        self.vectors = np.load(folder / "vectors.npy", mmap_mode="r", allow_pickle=False)
        self.dense = read_dense(str(folder / "dense.faiss"))
        apply_search_params(self.dense, self.info.get("dense", {}))
        self.lexical = LexicalIndex.load(folder / "lexical")

    def _local(self, rows: np.ndarray | None) -> np.ndarray | None:
        if rows is None:
            return None
        rows = np.asarray(rows, dtype=np.int64)
        at = np.searchsorted(self.rows, rows)
        at = np.minimum(at, max(len(self.rows) - 1, 0))
        return at[self.rows[at] == rows] if len(self.rows) else np.zeros(0, dtype=np.int64)

    def _check(self, version: str) -> None:
        if version != self.version:
            raise ShardUnavailableError(f"shard {self.shard} serves {self.version}, not {version}")

    def describe(self) -> dict[str, Any]:
        """The shard's ``shard.json`` (number, version, counts)."""
        return dict(self.info)

    def lex_search(self, version: str, text: str, k: int, allowed: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """BM25 top ``k`` of this shard within ``allowed`` (snapshot rows)."""
        self._check(version)
        rows, scores = self.lexical.search(text, k, self._local(allowed))
        return self.rows[rows], scores

    def lex_scores(self, version: str, text: str, rows: np.ndarray) -> np.ndarray:
        """BM25 scores of ``rows`` (snapshot rows this shard owns)."""
        self._check(version)
        local = self._local(rows)
        return self.lexical.scores(text)[local] if local is not None else np.zeros(0, np.float32)

    def matched_share(self, version: str, text: str, row: int) -> float:
        """:meth:`LexicalIndex.matched_share` of snapshot row ``row``."""
        self._check(version)
        local = self._local(np.asarray([row]))
        return self.lexical.matched_share(text, int(local[0])) if local is not None and len(local) else 0.0

    def dense_search(self, version: str, q: np.ndarray, k: int, allowed: np.ndarray | None,
                     exact_threshold: int) -> tuple[np.ndarray, np.ndarray]:
        """Inner-product top ``k`` of this shard within ``allowed`` (snapshot rows)."""
        self._check(version)
        rows, scores = dense_topk(self.dense, self.vectors, q, k, self._local(allowed), exact_threshold=exact_threshold)
        return self.rows[rows], scores

    def vectors_of(self, version: str, rows: np.ndarray) -> np.ndarray:
        """The vectors of ``rows`` (snapshot rows this shard owns), in that order."""
        self._check(version)
        local = self._local(rows)
        return np.asarray(self.vectors[local] if local is not None else self.vectors[:0], dtype=np.float32)


class ShardClient(Protocol):
    """How the coordinator reaches one shard: ``call`` runs a :class:`ShardIndex` method there."""

    shard: int

    def submit(self, method: str, *args: Any) -> Any: ...

    def result(self, pending: Any) -> Any: ...


class LocalShard:
    """A shard in this process (tests, one machine): calls run at once."""

    def __init__(self, index: ShardIndex) -> None:
        self.index = index
        self.shard = index.shard

    def submit(self, method: str, *args: Any) -> Any:
        """Run ``method`` now; the result (or the error) waits for :meth:`result`."""
        try:
            return (True, getattr(self.index, method)(*args))
        except ShardUnavailableError as exc:
            return (False, exc)

    def result(self, pending: Any) -> Any:
        """The value, or ShardUnavailableError."""
        ok, value = pending
        if not ok:
            raise value
        return value


class ShardSet:
    """The shards of one snapshot version and which shard owns each row; scatters calls and gathers answers."""

    def __init__(self, clients: Sequence[Any], owners: Sequence[np.ndarray], version: str, dim: int) -> None:
        self.clients = list(clients)
        self.version = version
        self.dim = dim
        self.n = int(sum(len(r) for r in owners))
        self.owner = np.full(self.n, -1, dtype=np.int64)
        for k, rows in enumerate(owners):
            self.owner[rows] = k

    def scatter(self, method: str, per_shard: dict[int, tuple[Any, ...]]) -> dict[int, Any]:
        """Call ``method`` with ``per_shard[k]`` on each shard ``k`` at once; the answers of those that answered."""
        pending = {k: self.clients[k].submit(method, self.version, *args) for k, args in per_shard.items()}
        out: dict[int, Any] = {}
        for k, p in pending.items():
            try:
                out[k] = self.clients[k].result(p)
            except ShardUnavailableError:
                _mark(k)
        return out

    def split(self, rows: np.ndarray | None) -> dict[int, np.ndarray | None]:
        """``rows`` by owning shard (every shard, ``None``, when ``rows`` is None)."""
        if rows is None:
            return {k: None for k in range(len(self.clients))}
        rows = np.asarray(rows, dtype=np.int64)
        own = self.owner[rows]
        return {k: rows[own == k] for k in np.unique(own).tolist()}


class ShardedLexical:
    """BM25 over the shards with the interface of :class:`LexicalIndex` (what retrieval calls)."""

    def __init__(self, shards: ShardSet, vocabulary: LexicalIndex) -> None:
        self.shards = shards
        self.n_docs = shards.n
        self._vocab = vocabulary  # the whole catalog's terms, no documents (LexicalIndex.subset of no rows)

    def __len__(self) -> int:
        return self.n_docs

    def query_terms(self, text: str) -> list[str]:
        """The distinct query terms the catalog knows."""
        return self._vocab.query_terms(text)

    def search(self, text: str, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Global BM25 top ``k``: each shard's top ``k`` merged, ties by row."""
        got = self.shards.scatter("lex_search", {s: (text, k, a) for s, a in self.shards.split(allowed).items()})
        if not got:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        rows = np.concatenate([r for r, _ in got.values()])
        return _top(rows, np.concatenate([sc for _, sc in got.values()]), k)

    def scores(self, text: str) -> _LazyScores:
        """Scores of rows on demand (fusion reads only its candidates' scores)."""
        return _LazyScores(self.shards, text)

    def matched_share(self, text: str, row: int) -> float:
        """The owning shard's :meth:`LexicalIndex.matched_share`."""
        k = int(self.shards.owner[row])
        return float(self.shards.scatter("matched_share", {k: (text, int(row))}).get(k, 0.0))


class _LazyScores:
    def __init__(self, shards: ShardSet, text: str) -> None:
        self.shards, self.text = shards, text

    def __getitem__(self, rows: np.ndarray) -> np.ndarray:
        rows = np.asarray(rows, dtype=np.int64)
        out = np.zeros(len(rows), dtype=np.float32)
        parts = {k: r for k, r in self.shards.split(rows).items() if r is not None and len(r)}
        for k, vals in self.shards.scatter("lex_scores", {k: (self.text, r) for k, r in parts.items()}).items():
            out[self.shards.owner[rows] == k] = vals
        return out


class ShardedDense:
    """Dense top-k over the shards (:func:`search.retrieval.retrieve.dense` calls :meth:`topk`)."""

    def __init__(self, shards: ShardSet) -> None:
        self.shards = shards
        self.ntotal = shards.n
        self.d = shards.dim

    def topk(self, q: np.ndarray, k: int, allowed: np.ndarray | None, *,
             exact_threshold: int) -> tuple[np.ndarray, np.ndarray]:
        """Global inner-product top ``k``: each shard's top ``k`` merged, ties by row."""
        calls = {s: (q, k, a, exact_threshold) for s, a in self.shards.split(allowed).items()}
        got = self.shards.scatter("dense_search", calls)
        if not got:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        return _top(np.concatenate([r for r, _ in got.values()]), np.concatenate([s for _, s in got.values()]), k)


class ShardedVectors:
    """``vectors[rows]`` gathered from the owning shards (a missing shard's rows read as zero vectors)."""

    dtype = np.dtype(np.float32)
    ndim = 2

    def __init__(self, shards: ShardSet) -> None:
        self.shards = shards
        self.shape = (shards.n, shards.dim)

    def __len__(self) -> int:
        return self.shards.n

    def __getitem__(self, rows: Any) -> np.ndarray:
        idx = np.atleast_1d(np.asarray(rows, dtype=np.int64))
        out = np.zeros((len(idx), self.shards.dim), dtype=np.float32)
        parts = {k: r for k, r in self.shards.split(idx).items() if r is not None and len(r)}
        for k, vals in self.shards.scatter("vectors_of", {k: (r,) for k, r in parts.items()}).items():
            out[self.shards.owner[idx] == k] = vals
        return out[0] if np.ndim(rows) == 0 else out
