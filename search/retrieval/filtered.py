"""Dense top-k within an allowed set of rows, whatever the snapshot's FAISS index: the strategy per selectivity.

:func:`dense_topk` is the one entry point (:func:`search.retrieval.retrieve.dense` delegates to it). With
``allowed`` (sorted row numbers the filter admits) and ``a = len(allowed)`` of ``n`` rows:

* **No index, or few allowed rows** (``a <= exact_threshold`` for a flat index or none;
  ``a <= min(exact_threshold, EXACT_ROWS_ANN)`` for an approximate one): exact scoring
  ``vectors[allowed] @ q``. Exact, and cheap at that size; above a few thousand rows the gather of
  scattered rows costs more than an IVF scan (measured: 18 ms for 10k rows of 1M on this machine,
  against 0.3 ms for the IVF search below at the same recall).
* **IVF** (``IndexIVF*``, see :mod:`indexer.build.ivf`): the index searches with an ``IDSelectorBitmap`` of
  the allowed rows and ``nprobe = base * (0.1 / s) ** power`` lists for a selectivity ``s = a / n`` below
  10 % (the base nprobe above it; ``base`` is the ``nprobe`` argument, or when None the index's own, stored at
  build time; ``power`` is ``nprobe_power``, by default :data:`NPROBE_POWER`; the engine passes its own pair,
  ``EngineSettings.nprobe`` / ``nprobe_power``, 64 and 0.6 by default): the rarer the
  allowed rows, the more lists must be scanned to meet ten of them near the query. Candidates
  (``k + max(k, 30)``) are then rescored exactly with the raw vectors (the index may hold 8-bit codes).
  Should the index return fewer rows than ``min(k, a)``, nprobe grows fourfold up to every list, then exact
  scoring answers.
* **HNSW** (older snapshots): the selector with ``efSearch`` raised to ``max(ef, 2k / s)`` (capped at
  1,024), and exact scoring when the graph search leaves holes.
* **Flat**, large allowed set: the selector on the flat index (a full scan, exact).

Without a filter: exact scoring up to ``exact_threshold`` rows without an approximate index, otherwise
the index (IVF with reranking).

Single-query searches run FAISS on one OpenMP thread (restored afterwards; the setting is per calling
thread in libgomp): on a busy 2-core machine every-thread single queries were several times slower.

Returns ``(rows int64, scores float32)``, best first, ties by row.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

EXACT_ROWS_ANN = 4096  # allowed sets up to this size are scored exactly even when an ANN index exists
HNSW_EF_CAP = 1024
# Below 10 % of the rows allowed, IVF probes nprobe * (0.1 / share) ** NPROBE_POWER lists: the default for a caller
# that passes no power with the index's own nprobe (32). 0.9 rather than the first rule's 0.5 (sqrt): at 1M, 1 %
# allowed, recall@10 0.9965 against 0.992 (255 lists of 2,048 against 102) for +0.5 ms a dense search; 10 % and above
# unchanged (docs/benchmarks.md, h14d). The engine probes with EngineSettings.nprobe / nprobe_power (64, 0.6: the
# same 255 lists at 1 %, twice the lists without a filter).
NPROBE_POWER = 0.9


def _top(rows: np.ndarray, scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Best ``k`` of (rows, scores), ties by row."""
    if len(rows) > k:
        part = np.argpartition(-scores, k - 1)[:k]
        kth = scores[part].min()
        keep = scores >= kth
        rows, scores = rows[keep], scores[keep]
    order = np.lexsort((rows, -scores))[:k]
    return rows[order].astype(np.int64), scores[order].astype(np.float32)


def _exact(vectors: np.ndarray, q: np.ndarray, k: int, rows: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    if rows is None:
        return _top(np.arange(vectors.shape[0], dtype=np.int64), np.asarray(vectors @ q, dtype=np.float32), k)
    return _top(rows, np.asarray(vectors[rows] @ q, dtype=np.float32), k)


def _faiss() -> Any:
    """The faiss module, untyped: its SWIG stubs lack the search-parameter classes used here."""
    import faiss

    return faiss


def index_kind(index: Any) -> str:
    """``"ivf"``, ``"hnsw"``, ``"flat"`` or ``"other"`` for a FAISS index (``"none"`` for None)."""
    if index is None:
        return "none"
    faiss = _faiss()
    name = type(faiss.downcast_index(index)).__name__
    if name.startswith("IndexIVF"):
        return "ivf"
    if name.startswith("IndexHNSW"):
        return "hnsw"
    if name.startswith("IndexFlat"):
        return "flat"
    return "other"


@contextmanager
def _one_thread() -> Iterator[None]:
    faiss = _faiss()
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def _bitmap_selector(allowed: np.ndarray, n: int) -> tuple[Any, np.ndarray]:
    """An IDSelectorBitmap over ``allowed`` and the bitmap it points to (keep both alive while searching)."""
    faiss = _faiss()
    mask = np.zeros(n, dtype=bool)
    mask[allowed] = True
    bits = np.packbits(mask, bitorder="little")  # FAISS reads bit (i & 7) of byte i >> 3
    return faiss.IDSelectorBitmap(n, faiss.swig_ptr(bits)), bits


def _found(ids: np.ndarray) -> np.ndarray:
    got = ids[0]
    return got[got >= 0].astype(np.int64)


def _ivf(index: Any, vectors: np.ndarray, q: np.ndarray, k: int, allowed: np.ndarray | None,
         base: int | None = None, power: float = NPROBE_POWER) -> tuple[np.ndarray, np.ndarray]:
    faiss = _faiss()
    ivf = faiss.extract_index_ivf(index)
    n = int(vectors.shape[0])
    a = n if allowed is None else int(allowed.size)
    nlist = int(ivf.nlist)
    nprobe = max(1, int(ivf.nprobe) if base is None else int(base))  # never written to the index: it may be shared
    s = a / max(n, 1)
    if s < 0.1:
        nprobe = math.ceil(nprobe * (0.1 / max(s, 1e-12)) ** power)
    nprobe = min(nlist, nprobe)
    pool = min(a, k + max(k, 30))
    need = min(k, a)
    sel, bits = _bitmap_selector(allowed, n) if allowed is not None else (None, None)
    while True:
        params = faiss.SearchParametersIVF(nprobe=nprobe, sel=sel) if sel is not None else \
            faiss.SearchParametersIVF(nprobe=nprobe)
        _, ids = index.search(q[None, :], pool, params=params)
        got = _found(ids)
        if got.size >= need or nprobe >= nlist:
            break
        nprobe = min(nlist, nprobe * 4)
    del bits
    if got.size < need:
        return _exact(vectors, q, k, allowed)
    got = np.sort(got)  # ascending rows: a forward gather from the memory map
    return _top(got, np.asarray(vectors[got] @ q, dtype=np.float32), k)


def _hnsw(index: Any, vectors: np.ndarray, q: np.ndarray, k: int, allowed: np.ndarray | None
          ) -> tuple[np.ndarray, np.ndarray]:
    faiss = _faiss()
    h = faiss.downcast_index(index)
    n = int(vectors.shape[0])
    if allowed is None:
        ef = max(int(h.hnsw.efSearch), k)
        params = faiss.SearchParametersHNSW(efSearch=ef)
        scores, ids = index.search(q[None, :], min(k, n), params=params)
        keep = ids[0] >= 0
        return ids[0][keep].astype(np.int64), scores[0][keep].astype(np.float32)
    s = allowed.size / max(n, 1)
    ef = int(min(HNSW_EF_CAP, max(int(h.hnsw.efSearch), k, math.ceil(2 * k / max(s, 1e-12)))))
    sel, bits = _bitmap_selector(allowed, n)
    kk = min(k, int(allowed.size))
    scores, ids = index.search(q[None, :], kk, params=faiss.SearchParametersHNSW(sel=sel, efSearch=ef))
    del bits
    keep = ids[0] >= 0
    if int(keep.sum()) < kk:  # holes under a selective filter: answer exactly
        return _exact(vectors, q, k, allowed)
    return ids[0][keep].astype(np.int64), scores[0][keep].astype(np.float32)


def _selected(index: Any, vectors: np.ndarray, q: np.ndarray, k: int, allowed: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray]:
    """Any other index type: the selector, exact scoring when unsupported or short."""
    faiss = _faiss()
    sel, bits = _bitmap_selector(allowed, int(vectors.shape[0]))
    kk = min(k, int(allowed.size))
    try:
        scores, ids = index.search(q[None, :], kk, params=faiss.SearchParameters(sel=sel))  # type: ignore[call-arg]
    except (RuntimeError, TypeError):
        return _exact(vectors, q, k, allowed)
    finally:
        del bits
    keep = ids[0] >= 0
    if int(keep.sum()) < kk:
        return _exact(vectors, q, k, allowed)
    return ids[0][keep].astype(np.int64), scores[0][keep].astype(np.float32)


def dense_topk(index: Any, vectors: np.ndarray, query: np.ndarray, k: int, allowed: np.ndarray | None = None, *,
               exact_threshold: int = 20_000, nprobe: int | None = None,
               nprobe_power: float = NPROBE_POWER) -> tuple[np.ndarray, np.ndarray]:
    """Inner-product top ``k`` rows for one query vector, only rows in ``allowed`` when given (see module doc).

    ``nprobe``: the IVF lists probed without a selective filter (None: the index's own); ``nprobe_power``: how
    fast they grow below 10 % of the rows allowed. Other index types ignore both.
    """
    empty = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))
    n = int(vectors.shape[0])
    if k <= 0 or n == 0:
        return empty
    q = np.ascontiguousarray(query, dtype=np.float32).reshape(-1)
    kind = index_kind(index)
    if allowed is not None:
        allowed = np.asarray(allowed, dtype=np.int64)
        if allowed.size == 0:
            return empty
        small = exact_threshold if kind in ("none", "flat") else min(exact_threshold, EXACT_ROWS_ANN)
        if kind == "none" or allowed.size <= small:
            return _exact(vectors, q, k, allowed)
    elif kind == "none" or (kind == "flat" and n <= exact_threshold):
        return _exact(vectors, q, k, None)
    with _one_thread():
        if kind == "ivf":
            return _ivf(index, vectors, q, k, allowed, nprobe, nprobe_power)
        if kind == "hnsw":
            return _hnsw(index, vectors, q, k, allowed)
        if allowed is not None:
            return _selected(index, vectors, q, k, allowed)
        scores, ids = index.search(q[None, :], min(k, n))
        keep = ids[0] >= 0
        return ids[0][keep].astype(np.int64), scores[0][keep].astype(np.float32)
