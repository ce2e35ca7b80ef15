"""The dense (FAISS) index of a snapshot: which kind, with which parameters, and why.

* Up to :data:`EXACT_MAX_ROWS` products: ``IndexFlatIP``, exact inner product (= cosine on the
  normalised vectors). Measured (``benchmarks/index.py``, 384 dimensions, one thread, busy 2-core
  machine): 3.3 ms per query at 20k rows, 6.8 ms at 50k, 10.8 ms at 100k. Exactness is cheap at this
  size and avoids every approximate-search pitfall (recall, filtered-search holes).
* Above it: ``IndexHNSWFlat`` (M = :data:`HNSW_M`, efConstruction = :data:`HNSW_EF_CONSTRUCTION`,
  efSearch = :data:`HNSW_EF_SEARCH`), inner-product metric: recall@10 against the exact search
  0.9995-1.0 at 0.23-0.28 ms per query from 20k to 100k rows (efSearch 32/64 lose up to 0.5% recall
  for under 0.1 ms). HNSW needs no training (unlike IVF), so a rebuild never depends on a sample, and
  its build (21 s for 100k rows here) stays far below the embedding time of the same products.
  Figures and method: docs/benchmarks.md.

Serving note: single-query FAISS searches on every OpenMP thread were 5-9x slower than on one thread
on a shared machine; a query path should call ``faiss.omp_set_num_threads(1)``.

Either way the snapshot also keeps the raw vectors (``vectors.npy``), so a filtered search scores a
small allowed set exactly instead of asking HNSW for a selective filter (FAISS has known recall
holes there). FAISS ids are the snapshot row numbers.
"""

from __future__ import annotations

from typing import Any

import faiss
import numpy as np

EXACT_MAX_ROWS = 50_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 96


def build_dense(vectors: np.ndarray, *, exact_max_rows: int = EXACT_MAX_ROWS) -> tuple[faiss.Index, dict[str, Any]]:
    """A FAISS index over ``vectors`` (rows = ids) and the parameters the manifest records."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n, dim = vectors.shape
    index: Any
    if n <= exact_max_rows:
        index = faiss.IndexFlatIP(dim)
        params: dict[str, Any] = {"type": "IndexFlatIP", "metric": "inner_product", "exact_max_rows": exact_max_rows}
    else:
        index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = HNSW_EF_SEARCH
        params = {"type": "IndexHNSWFlat", "metric": "inner_product", "exact_max_rows": exact_max_rows,
                  "M": HNSW_M, "efConstruction": HNSW_EF_CONSTRUCTION, "efSearch": HNSW_EF_SEARCH}
    if n:
        index.add(vectors)
    params["rows"] = int(n)
    params["dim"] = int(dim)
    return index, params


def apply_search_params(index: faiss.Index, params: dict[str, Any]) -> None:
    """Restore query-time parameters recorded in the manifest (efSearch is not a build property)."""
    if params.get("type") == "IndexHNSWFlat" and "efSearch" in params:
        hnsw: Any = faiss.downcast_index(index)
        hnsw.hnsw.efSearch = int(params["efSearch"])


def read_dense(path: str) -> faiss.Index:
    """Read a FAISS index file (FAISS's own binary format, no pickle)."""
    return faiss.read_index(path)


def write_dense(index: faiss.Index, path: str) -> None:
    """Write a FAISS index file."""
    faiss.write_index(index, path)
