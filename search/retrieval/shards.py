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
* **Global statistics**: each shard keeps raw term frequencies; the coordinator sums the shards' document
  frequencies (:class:`indexer.build.shard_lexical.LexStats`) and sends each query's IDF and the average length,
  so a shard's BM25 score of a row is the single index's, bit for bit, whichever shards changed since.
* **Rows**: a shard numbers its products in doc id order; the :class:`ShardSet` maps them to snapshot rows
  (also in doc id order) by doc id, so "ties by row" break identically. Each shard is its own versioned
  snapshot; a :class:`ShardSet` names one version per shard, and every call carries it.
* **Merging**: every retriever asks each shard for its own top ``k`` (ties by row) and keeps the best ``k``
  of the union, ties by row: exactly the single index's top ``k`` when each shard's search is exact (BM25
  always; dense with exact scoring or a flat index: up to ``EXACT_MAX_ROWS`` rows per shard). Above that,
  each shard's IVF is approximate on its own, as the single snapshot's is.
* Scores of given rows (fusion scores every candidate with both retrievers) and vectors of given rows
  (fusion, Rocchio, the floor) are gathered from the shards owning them. A search asks only shards that
  own an allowed row, so a merchant-scoped search reaches one shard.

A shard that does not answer (down, or no longer holding the version asked for) raises
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

from indexer.build.bm25 import best_rows
from indexer.build.dense import apply_search_params, read_dense
from indexer.build.lexical import tokenize
from indexer.build.shard_lexical import LexStats, Postings, idf
from indexer.build.shards import SHARD_FILE
from indexer.errors import ShardUnavailableError
from search.retrieval.filtered import NPROBE_POWER, dense_topk

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
    """One shard version's BM25 term frequencies, vectors and FAISS index; rows in and out are the shard's own."""

    def __init__(self, folder: Path) -> None:
        folder = Path(folder)
        self.info: dict[str, Any] = json.loads((folder / SHARD_FILE).read_text("utf-8"))
        self.shard = int(self.info["shard"])
        self.version = str(self.info["version"])
        self.vectors = np.load(folder / "vectors.npy", mmap_mode="r", allow_pickle=False)
        self.dense = read_dense(str(folder / "dense.faiss"))
        apply_search_params(self.dense, self.info.get("dense", {}))
        self.postings = Postings.load(folder / "lexical")
        self.k1, self.b = float(self.info["k1"]), float(self.info["b"])

    def describe(self) -> dict[str, Any]:
        """The shard's ``shard.json`` (number, version, counts)."""
        return dict(self.info)

    def lex_search(self, terms: list[str], idf: list[float], avg: float, k: int,
                   allowed: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """BM25 top ``k`` within ``allowed`` rows, scored with the catalog's ``idf`` and average length ``avg``."""
        return best_rows(self.postings.scores(terms, idf, avg, self.k1, self.b), k, allowed)

    def lex_scores(self, terms: list[str], idf: list[float], avg: float, rows: np.ndarray) -> np.ndarray:
        """BM25 scores of ``rows``."""
        return self.postings.scores(terms, idf, avg, self.k1, self.b)[np.asarray(rows, dtype=np.int64)]

    def hits(self, words: list[str], row: int) -> int:
        """How many of ``words`` row ``row`` contains (:meth:`LexicalIndex.matched_share`'s count)."""
        return self.postings.hits(words, row)

    def dense_search(self, q: np.ndarray, k: int, allowed: np.ndarray | None, exact_threshold: int,
                     nprobe: int | None = None, nprobe_power: float = NPROBE_POWER) -> tuple[np.ndarray, np.ndarray]:
        """Inner-product top ``k`` within ``allowed`` rows (``nprobe``: the engine's setting, None = the shard's)."""
        return dense_topk(self.dense, self.vectors, q, k, allowed, exact_threshold=exact_threshold, nprobe=nprobe,
                          nprobe_power=nprobe_power)

    def vectors_of(self, rows: np.ndarray) -> np.ndarray:
        """The vectors of ``rows``, in that order."""
        return np.asarray(self.vectors[np.asarray(rows, dtype=np.int64)], dtype=np.float32)


class ShardHost:
    """What serves one shard (a Ray actor's body, or in process): the shard's loaded versions, by name.

    A hot swap loads the new version *beside* the one being served (:meth:`load`) and keeps both until the next
    swap, so requests of the old coordinator state and of the new one are both answered while the coordinator
    moves over: a shard is never on neither version. ``loads`` lists every version loaded, in order.
    """

    KEEP = 2

    def __init__(self, folder: Path | str | None = None) -> None:
        self.held: dict[str, ShardIndex] = {}
        self.loads: list[str] = []
        if folder is not None:
            self.load(folder)

    def load(self, folder: Path | str) -> str:
        """Load the shard version in ``folder`` (kept with the newest one before it); its version name."""
        index = ShardIndex(Path(folder))
        if index.version not in self.held:
            self.held[index.version] = index
            self.loads.append(index.version)
        for old in [v for v in self.loads if v in self.held][:-self.KEEP]:
            del self.held[old]
        return index.version

    def versions(self) -> list[str]:
        """The versions held now."""
        return list(self.held)

    def call(self, version: str, method: str, *args: Any) -> Any:
        """Run :class:`ShardIndex` ``method`` on ``version``; ShardUnavailableError when it is not held."""
        index = self.held.get(version)
        if index is None:
            raise ShardUnavailableError(f"this shard holds {', '.join(self.held) or 'nothing'}, not {version}")
        return getattr(index, method)(*args)


class ShardClient(Protocol):
    """How the coordinator reaches one shard: ``submit`` runs a :class:`ShardHost` call there."""

    shard: int

    def submit(self, version: str, method: str, *args: Any) -> Any: ...

    def result(self, pending: Any) -> Any: ...


class LocalShard:
    """A shard in this process (tests, one machine): calls run at once."""

    def __init__(self, shard: int, host: ShardHost) -> None:
        self.host = host
        self.shard = shard

    def submit(self, version: str, method: str, *args: Any) -> Any:
        """Run the call now; the result (or the error) waits for :meth:`result`."""
        try:
            return (True, self.host.call(version, method, *args))
        except ShardUnavailableError as exc:
            return (False, exc)

    def result(self, pending: Any) -> Any:
        """The value, or ShardUnavailableError."""
        ok, value = pending
        if not ok:
            raise value
        return value


class ShardSet:
    """One consistent set of shard versions: which shard owns each snapshot row, as which of its rows; the
    catalog's BM25 statistics over them; scatters calls and gathers answers in snapshot rows."""

    def __init__(self, clients: Sequence[Any], versions: Sequence[str], globs: Sequence[np.ndarray], dim: int,
                 stats: LexStats) -> None:
        self.clients = list(clients)
        self.versions = list(versions)
        self.globs = [np.asarray(g, dtype=np.int64) for g in globs]  # shard k's rows -> snapshot rows (ascending)
        self.dim = dim
        self.stats = stats
        self.n = int(sum(len(g) for g in self.globs))
        self.owner = np.full(self.n, -1, dtype=np.int64)
        self.local = np.zeros(self.n, dtype=np.int64)
        for k, g in enumerate(self.globs):
            self.owner[g], self.local[g] = k, np.arange(len(g))

    def scatter(self, method: str, per_shard: dict[int, tuple[Any, ...]]) -> dict[int, Any]:
        """Call ``method`` with ``per_shard[k]`` on each shard ``k`` at once; the answers of those that answered."""
        pending = {k: self.clients[k].submit(self.versions[k], method, *args) for k, args in per_shard.items()}
        out: dict[int, Any] = {}
        for k, p in pending.items():
            try:
                out[k] = self.clients[k].result(p)
            except ShardUnavailableError:
                _mark(k)
        return out

    def split(self, rows: np.ndarray | None) -> dict[int, np.ndarray | None]:
        """Snapshot ``rows`` as each owning shard's own rows (every shard, ``None``, when ``rows`` is None)."""
        if rows is None:
            return {k: None for k in range(len(self.clients))}
        rows = np.asarray(rows, dtype=np.int64)
        own = self.owner[rows]
        return {k: self.local[rows[own == k]] for k in np.unique(own).tolist()}

    def merge(self, got: dict[int, tuple[np.ndarray, np.ndarray]], k: int) -> tuple[np.ndarray, np.ndarray]:
        """The best ``k`` of the shards' top lists, in snapshot rows, ties by row."""
        if not got:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        rows = np.concatenate([self.globs[s][np.asarray(r, dtype=np.int64)] for s, (r, _) in got.items()])
        return _top(rows, np.concatenate([np.asarray(sc) for _, sc in got.values()]), k)


class ShardedLexical:
    """BM25 over the shards with the interface of :class:`LexicalIndex` (what retrieval calls)."""

    def __init__(self, shards: ShardSet, analyser: Any = None) -> None:
        self.shards = shards
        self.n_docs = shards.n
        # how queries are read: the snapshot's own LexicalIndex (its analyser, per-language query reading);
        # None: English, as an aisle-v1 index
        self.analyser = analyser

    def __len__(self) -> int:
        return self.n_docs

    def _known(self, term: str) -> bool:
        return self.shards.stats.df(term) > 0

    def query_groups(self, text: str) -> list[tuple[str, ...]]:
        """:meth:`LexicalIndex.query_groups` (the snapshot's analysis)."""
        if self.analyser is not None:
            return list(self.analyser.query_groups(text))
        return [(t,) for t in dict.fromkeys(tokenize(text)) if t]

    @property
    def doc_lang(self) -> Any:
        """The snapshot's language per row (:attr:`LexicalIndex.doc_lang`; None for an aisle-v1 index)."""
        return getattr(self.analyser, "doc_lang", None)

    def query_languages(self, text: str) -> tuple[str, ...]:
        """:meth:`LexicalIndex.query_languages` (the snapshot's reading; English alone without one)."""
        return tuple(self.analyser.query_languages(text)) if self.analyser is not None else ("en",)

    def query_terms(self, text: str) -> list[str]:
        """The distinct query terms the catalog knows."""
        return [t for t in dict.fromkeys(t for g in self.query_groups(text) for t in g) if t and self._known(t)]

    def _query(self, text: str) -> tuple[list[Any], list[Any], float]:
        stats = self.shards.stats
        if self.analyser is None:
            terms, weights = stats.weights(text)
            return list(terms), list(weights), stats.avg
        plan = self.analyser.plan(text, self._known)
        w = [idf(stats.df(t), stats.n_docs) if isinstance(t, str) else tuple(idf(stats.df(v), stats.n_docs) for v in t)
             for t in plan]
        return plan, w, stats.avg

    def coverage(self, text: str) -> float:
        """:meth:`LexicalIndex.coverage` (the whole catalog's vocabulary)."""
        groups = self.query_groups(text)
        return sum(1 for g in groups if any(self._known(t) for t in g)) / len(groups) if groups else 1.0

    def search(self, text: str, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Global BM25 top ``k``: each shard's top ``k`` merged, ties by row."""
        terms, idf, avg = self._query(text)
        if not terms or k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        calls = {s: (terms, idf, avg, k, a) for s, a in self.shards.split(allowed).items() if a is None or len(a)}
        return self.shards.merge(self.shards.scatter("lex_search", calls), k)

    def scores(self, text: str) -> _LazyScores:
        """Scores of rows on demand (fusion reads only its candidates' scores)."""
        return _LazyScores(self.shards, self._query(text))

    def matched_share(self, text: str, row: int) -> float:
        """The owning shard's count of ``text``'s distinct terms in ``row``, over their number."""
        words = [g[0] if len(g) == 1 else g for g in self.query_groups(text)]
        if not words:
            return 0.0
        k = int(self.shards.owner[row])
        hits = self.shards.scatter("hits", {k: (words, int(self.shards.local[row]))}).get(k, 0)
        return hits / len(words)


class _LazyScores:
    def __init__(self, shards: ShardSet, query: tuple[list[str], list[float], float]) -> None:
        self.shards, self.query = shards, query

    def __getitem__(self, rows: Any) -> Any:
        idx = np.atleast_1d(np.asarray(rows, dtype=np.int64))
        out = np.zeros(len(idx), dtype=np.float32)
        if self.query[0]:
            parts = {k: r for k, r in self.shards.split(idx).items() if r is not None and len(r)}
            for k, vals in self.shards.scatter("lex_scores", {k: (*self.query, r) for k, r in parts.items()}).items():
                out[self.shards.owner[idx] == k] = vals
        return out[0] if np.ndim(rows) == 0 else out


class ShardedDense:
    """Dense top-k over the shards (:func:`search.retrieval.retrieve.dense` calls :meth:`topk`)."""

    def __init__(self, shards: ShardSet) -> None:
        self.shards = shards
        self.ntotal = shards.n
        self.d = shards.dim

    def topk(self, q: np.ndarray, k: int, allowed: np.ndarray | None, *, exact_threshold: int,
             nprobe: int | None = None, nprobe_power: float = NPROBE_POWER) -> tuple[np.ndarray, np.ndarray]:
        """Global inner-product top ``k``: each shard's top ``k`` merged, ties by row (each shard probes ``nprobe``
        base lists, scaled by its own allowed share, as the single index does)."""
        calls = {s: (q, k, a, exact_threshold, nprobe, nprobe_power)
                 for s, a in self.shards.split(allowed).items() if a is None or len(a)}
        return self.shards.merge(self.shards.scatter("dense_search", calls), k)


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
