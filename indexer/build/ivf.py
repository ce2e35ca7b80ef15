"""The dense index for large catalogs: IVF with 8-bit scalar quantization, reranked with the raw vectors.

``IndexIVFScalarQuantizer`` (inner product, ``QT_8bit``): :func:`nlist_for` inverted lists (about
``2 * sqrt(n)``, a power of two: 512 at 100k rows, 2,048 at 1M), trained on a fixed-seed sample of
:data:`TRAIN_PER_LIST` rows per list, :data:`NPROBE` lists probed by default (stored in the index
file, so a loaded index searches the same way). The codes take 384 bytes per 384-d vector, a quarter
of a flat copy; the snapshot keeps the float32 vectors anyway (``vectors.npy``, memory-mapped), and the
search (:func:`search.retrieval.filtered.dense_topk`) reranks the IVF candidates exactly with them, so the
quantization costs no recall.

Why IVF and not HNSW above the flat threshold (measured by ``benchmarks/scale.py`` on 1M vectors of
real product embeddings with perturbed copies, 2 busy cores, one thread per query; docs/benchmarks.md):

* **Recall.** IVF-SQ8 nlist 2,048 with reranking: recall@10 0.987 at nprobe 32 (0.7 ms), 0.994 at 64.
  ``IndexHNSWFlat`` M=32, efConstruction=64: 0.55 / 0.60 / 0.65 at efSearch 32 / 64 / 128: catalogs
  hold many near-identical products (one item sold by many shops), dense clusters in which a graph
  search stalls while an inverted list simply holds the whole cluster.
* **Filters.** An IVF search with an ``IDSelector`` still scans whole lists, skipping rows the filter
  rejects, so recall under a filter depends only on how many lists are probed: 0.983 at 10 %
  selectivity (nprobe 32), 0.989 at 1 % (64), 0.962 / 0.988 at 0.1 % (128 / 256). HNSW with the same
  selector: 0.55 at 10 %, 0.33 at 1 % (efSearch 128), the known "holes" of filtered graph search.
  Hence the rule in :mod:`search.retrieval.filtered`: ``nprobe * (0.1 / selectivity) ** power`` below 10 %
  (power 0.9 by default since the 1M end-to-end measurement, docs/benchmarks.md, h14d; search-time settings).
* **Build and size.** 91 s for 1M vectors here (HNSW: 386 s), 395 MB (HNSW: 1.8 GB).

FAISS ids are the snapshot row numbers, as for every dense index of a snapshot.
"""

from __future__ import annotations

import math
from typing import Any

import faiss
import numpy as np

NPROBE = 32
TRAIN_PER_LIST = 50
MIN_NLIST = 64
MAX_NLIST = 16_384
SEED = 1234
ADD_CHUNK = 65_536
RETRAIN_FRACTION = 0.1  # an incremental build trains the IVF again once this share of rows changed since training


def nlist_for(n: int) -> int:
    """Number of inverted lists for ``n`` rows: the power of two nearest ``2 * sqrt(n)``, clamped."""
    if n <= 0:
        return MIN_NLIST
    target = 2.0 * math.sqrt(n)
    return int(min(MAX_NLIST, max(MIN_NLIST, 2 ** round(math.log2(target)))))


def _nlist(n: int, nlist: int | None = None) -> int:
    """Lists for ``n`` rows (``nlist`` or :func:`nlist_for`), at most one per 39 rows: FAISS wants 39 training
    points per centroid. One rule for a build and for the re-use check, so a kept training matches a new build's."""
    return max(1, min(nlist or nlist_for(n), n // 39))


def build_ivf(
    vectors: np.ndarray, *, nlist: int | None = None, nprobe: int = NPROBE
) -> tuple[faiss.Index, dict[str, Any]]:
    """An ``IndexIVFScalarQuantizer`` (QT_8bit, inner product) over ``vectors`` (rows = ids) and the
    parameters the manifest records. ``vectors`` may be a read-only memory map: it is read in chunks."""
    n, dim = int(vectors.shape[0]), int(vectors.shape[1])
    nlist = _nlist(n, nlist)
    rng = np.random.default_rng(SEED)
    n_train = min(n, TRAIN_PER_LIST * nlist)
    sample = np.sort(rng.choice(n, size=n_train, replace=False)) if n_train < n else np.arange(n)
    train = np.ascontiguousarray(vectors[sample], dtype=np.float32)
    quantizer = faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFScalarQuantizer(quantizer, dim, nlist, faiss.ScalarQuantizer.QT_8bit,
                                          faiss.METRIC_INNER_PRODUCT)
    index.train(train)
    del train
    for start in range(0, n, ADD_CHUNK):
        index.add(np.ascontiguousarray(vectors[start : start + ADD_CHUNK], dtype=np.float32))
    index.nprobe = min(nprobe, nlist)
    params: dict[str, Any] = {"type": "IndexIVFScalarQuantizer", "metric": "inner_product", "qtype": "QT_8bit",
                              "nlist": int(nlist), "nprobe": int(index.nprobe), "train_rows": int(n_train),
                              "rerank": "exact, with vectors.npy", "training": "trained",
                              "changed_since_training": 0,
                              "filtered_nprobe": "nprobe * (0.1 / selectivity) ** power below 10 % (filtered.py)"}
    return index, params


def reuse_ivf(path: str, params: dict[str, Any], vectors: np.ndarray, *,
              changed: int) -> tuple[faiss.Index, dict[str, Any]] | None:
    """The previous snapshot's IVF (``path``, its manifest ``params``) with its training kept, its lists emptied and
    every row of ``vectors`` added again; None when it must be trained afresh.

    Training (k-means over a sample) is most of an IVF build; adding is one assignment per row. The centroids of
    a catalog that changed a little still partition it well, and the search reranks candidates exactly, so an
    incremental build keeps them until the products added, changed or removed since the training (``changed``
    plus what earlier builds counted) exceed :data:`RETRAIN_FRACTION` of the rows, or the list count
    :func:`nlist_for` gives changes; ``aisle index --full`` always trains. Such an index is not the bytes a
    build from scratch would train (k-means on another sample), so answers can differ from one by what the
    approximate search finds; below ``EXACT_MAX_ROWS`` the index is exact and rebuilt, identical.
    """
    n, dim = int(vectors.shape[0]), int(vectors.shape[1])
    nlist = _nlist(n)
    drift = int(params.get("changed_since_training", 0)) + changed
    if (params.get("type") != "IndexIVFScalarQuantizer" or params.get("nlist") != nlist or params.get("dim") != dim
            or drift > RETRAIN_FRACTION * n):
        return None
    index = faiss.read_index(path)
    ivf = faiss.extract_index_ivf(index)
    if not ivf.is_trained or ivf.d != dim or ivf.nlist != nlist:
        return None
    ivf.reset()  # the inverted lists only: the quantizer and the scalar quantizer's ranges stay trained
    for start in range(0, n, ADD_CHUNK):
        ivf.add(np.ascontiguousarray(vectors[start : start + ADD_CHUNK], dtype=np.float32))
    return index, {**params, "changed_since_training": drift, "training": "reused"}


def apply_ivf_params(index: faiss.Index, params: dict[str, Any]) -> None:
    """Restore the default ``nprobe`` recorded in the manifest (it is also stored in the index file)."""
    if "nprobe" in params:
        ivf = faiss.extract_index_ivf(index)
        ivf.nprobe = int(params["nprobe"])
