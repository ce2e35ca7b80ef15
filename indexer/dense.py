"""The dense (FAISS) index of a snapshot: which kind, with which parameters, and why.

* Up to :data:`EXACT_MAX_ROWS` products: ``IndexFlatIP``, exact inner product (= cosine on the
  normalised vectors). Measured here (``benchmarks/index.py``, 384 dimensions, 2 cores) a flat search
  costs about 0.06 ms per 1,000 rows, so 3 ms at 50,000 rows: exactness is cheap at this size and
  avoids every approximate-search pitfall (recall, filtered-search holes).
* Above it: ``IndexHNSWFlat`` (M = :data:`HNSW_M`, efConstruction = :data:`HNSW_EF_CONSTRUCTION`,
  efSearch = :data:`HNSW_EF_SEARCH`), inner-product metric; recall@10 against the exact index and
  latencies are in ``docs/benchmarks.md``. HNSW needs no training (unlike IVF), so an incremental
  rebuild never depends on a sample, and its build time (about 45 s for 200k vectors here) stays
  far below the embedding time of the same products.

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
