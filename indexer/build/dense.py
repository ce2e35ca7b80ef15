"""The dense (FAISS) index of a snapshot: which kind, with which parameters, and why.

* Up to :data:`EXACT_MAX_ROWS` products: ``IndexFlatIP``, exact inner product (= cosine on the
  normalised vectors). Measured (``benchmarks/index.py``, 384 dimensions, one thread, busy 2-core
  machine): 3.3 ms per query at 20k rows, 6.8 ms at 50k, 10.8 ms at 100k. Exactness is cheap at this
  size and avoids every approximate-search pitfall (recall, filtered-search holes).
* Above it: ``IndexIVFScalarQuantizer`` (IVF with 8-bit codes, :mod:`indexer.build.ivf`): about
  ``2 * sqrt(n)`` lists, 32 probed, candidates reranked exactly with the raw vectors by
  :func:`search.retrieval.filtered.dense_topk`, which also scales the probes with the selectivity of a filter.
  Chosen over ``IndexHNSWFlat`` from ``benchmarks/scale.py`` at 1M products (docs/benchmarks.md,
  "Scale"): recall@10 0.99 against 0.55-0.65 for HNSW on catalogs full of near-identical products,
  no recall holes under filters (HNSW with an ``IDSelector`` fell to 0.33 at 1 % selectivity), a
  4x faster build and a quarter of the memory. Snapshots written before this choice hold an
  ``IndexHNSWFlat`` (M = :data:`HNSW_M`, efConstruction = :data:`HNSW_EF_CONSTRUCTION`, efSearch =
  :data:`HNSW_EF_SEARCH`); they still load and are searched as before.

Serving note: single-query FAISS searches on every OpenMP thread were 5-9x slower than on one thread
on a shared machine; the query path (:mod:`search.retrieval.filtered`) searches on one thread.

Either way the snapshot also keeps the raw vectors (``vectors.npy``), so a filtered search scores a
small allowed set exactly and reranks approximate candidates exactly. FAISS ids are the snapshot row
numbers.
"""

from __future__ import annotations

from typing import Any

import faiss
import numpy as np

from indexer.build.ivf import apply_ivf_params, build_ivf, reuse_ivf

EXACT_MAX_ROWS = 50_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 96


def build_dense(vectors: np.ndarray, *, exact_max_rows: int = EXACT_MAX_ROWS,
                previous: tuple[str, dict[str, Any], int] | None = None) -> tuple[faiss.Index, dict[str, Any]]:
    """A FAISS index over ``vectors`` (rows = ids) and the parameters the manifest records. ``previous``: the
    previous snapshot's index file, its manifest parameters and the rows added, changed or removed since, whose
    IVF training is reused while the catalog drifted little (:func:`indexer.build.ivf.reuse_ivf`)."""
    n, dim = int(vectors.shape[0]), int(vectors.shape[1])
    index: Any
    params: dict[str, Any]
    reused = reuse_ivf(previous[0], previous[1], vectors, changed=previous[2]) \
        if previous is not None and n > exact_max_rows else None
    if reused is not None:
        index, params = reused
    elif n <= exact_max_rows:
        index = faiss.IndexFlatIP(dim)
        params = {"type": "IndexFlatIP", "metric": "inner_product", "exact_max_rows": exact_max_rows}
        if n:
            index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    else:
        index, ivf_params = build_ivf(vectors)  # reads the vectors in chunks: no full copy at 1M rows
        params = {**ivf_params, "exact_max_rows": exact_max_rows}
    params["rows"] = n
    params["dim"] = dim
    return index, params


def apply_search_params(index: faiss.Index, params: dict[str, Any]) -> None:
    """Restore query-time parameters recorded in the manifest (efSearch, nprobe are not build properties)."""
    if params.get("type") == "IndexHNSWFlat" and "efSearch" in params:
        hnsw: Any = faiss.downcast_index(index)
        hnsw.hnsw.efSearch = int(params["efSearch"])
    elif str(params.get("type", "")).startswith("IndexIVF"):
        apply_ivf_params(index, params)


def read_dense(path: str) -> faiss.Index:
    """Read a FAISS index file (FAISS's own binary format, no pickle)."""
    return faiss.read_index(path)


def write_dense(index: faiss.Index, path: str) -> None:
    """Write a FAISS index file."""
    faiss.write_index(index, path)
