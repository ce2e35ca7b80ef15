"""Shared pieces of the scale benchmark: the workload spec, exact ground truth, recall, percentiles, memory.

* :class:`Spec`: what one worker measures (engine, size, queries, vector source, cache folder...),
  passed to the worker subprocess as JSON.
* :func:`exact_topk`: exact brute force over the allowed rows (blocked matrix products, so 1M rows
  never need more than one block of scores in memory).
* :func:`recall_at_k`: recall@k against that truth, robust to ties and duplicate vectors: a returned
  row counts when its exact score is at least the k-th true score (minus 1e-5), so an engine that
  returns another of two identical vectors is not penalised.
* :func:`answer_recall`: recall@k of an engine's answer against the same engine's answer with exact vector
  search (its own ground truth, business rules included), robust to ties the same way.
* :func:`percentiles`, :func:`peak_rss_mb`, :func:`current_rss_mb`.
"""

from __future__ import annotations

import json
import resource
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

SELECTIVITIES = (1.0, 0.1, 0.01, 0.001)
K = 10
DEFAULT_CACHE = Path("/work/scale-cache")


@dataclass
class Spec:
    """One worker's job (JSON-serialisable)."""

    engine: str  # "aisle" | "lancedb" | "faiss-flat-postfilter"
    size: int
    queries: int = 200
    source: str = "model"  # vector source, see benchmarks._synth
    seed: int = 7
    cache: str = str(DEFAULT_CACHE)
    selectivities: list[float] = field(default_factory=lambda: list(SELECTIVITIES))
    repeat: int = 1  # timed passes over the queries (after one untimed warm-up pass)
    exact_max_rows: int | None = None  # aisle: override the dense index threshold (smoke test: force ANN)
    hybrid: bool = True  # aisle / LanceDB: also time the hybrid (BM25/FTS + vector) mode
    lancedb_hybrid_max: int = 100_000  # LanceDB hybrid needs a text column: only up to this size
    options: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Spec:
        return cls(**json.loads(text))

    @property
    def cache_dir(self) -> Path:
        return Path(self.cache)


def percentiles(xs: list[float]) -> dict[str, float | None]:
    """p50/p95/p99 in ms, rounded (None when empty)."""
    if not xs:
        return {"p50_ms": None, "p95_ms": None, "p99_ms": None}
    p50, p95, p99 = np.percentile(np.asarray(xs, dtype=np.float64), [50, 95, 99])
    return {"p50_ms": round(float(p50), 3), "p95_ms": round(float(p95), 3), "p99_ms": round(float(p99), 3)}


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far: ``VmHWM`` of ``/proc/self/status``.

    Not ``ru_maxrss``: Linux carries the parent's high-water mark over ``fork`` + ``exec`` into the
    child's ``ru_maxrss``, so a worker started by a parent holding 2 GB would report at least 2 GB.
    ``ru_maxrss`` is the fallback where ``/proc`` does not exist.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024.0, 1)
    except (OSError, ValueError, IndexError):
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)


def current_rss_mb() -> float:
    """Current resident set size (``/proc/self/statm``); the peak where that file does not exist."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return peak_rss_mb()
    return round(pages * resource.getpagesize() / 2**20, 1)


def npy_chunks(path: Path, rows: int = 65_536) -> Iterator[np.ndarray]:
    """Row blocks of a 2-D ``.npy`` file read with plain reads: unlike a memory map, pages read once do not
    stay in the process's resident set, so a peer that copies the vectors is not charged for them twice."""
    with open(path, "rb") as fh:
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
        else:
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
        if fortran or len(shape) != 2:
            raise ValueError(f"{path} is not a C-order 2-D array")
        n, dim = shape
        for start in range(0, n, rows):
            count = min(rows, n - start)
            block = np.fromfile(fh, dtype=dtype, count=count * dim)
            yield block.reshape(count, dim)


def allowed_mask(group: np.ndarray, selectivity: float, groups: int) -> np.ndarray | None:
    """bool (n,) of rows in the first ``selectivity * groups`` stores (None = every row)."""
    if selectivity >= 1.0:
        return None
    return np.asarray(group) < round(selectivity * groups)


def exact_topk(vectors: np.ndarray, queries: np.ndarray, mask: np.ndarray | None, k: int = K,
               block: int = 131_072) -> tuple[np.ndarray, np.ndarray]:
    """Exact inner-product top ``k`` of every query over the rows in ``mask``: (ids int64, scores float32),
    shape (Q, k), padded with -1 / -inf when fewer rows are allowed."""
    q = np.ascontiguousarray(queries, dtype=np.float32)
    nq = q.shape[0]
    best_s = np.full((nq, k), -np.inf, dtype=np.float32)
    best_i = np.full((nq, k), -1, dtype=np.int64)
    n = vectors.shape[0]
    for start in range(0, n, block):
        stop = min(n, start + block)
        rows = np.arange(start, stop, dtype=np.int64)
        if mask is not None:
            rows = rows[mask[start:stop]]
            if rows.size == 0:
                continue
            scores = q @ np.asarray(vectors[rows], dtype=np.float32).T
        else:
            scores = q @ np.asarray(vectors[start:stop], dtype=np.float32).T
        if rows.size > k:  # the block's own top k first: sorting (Q, block) would dominate
            part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
            scores = np.take_along_axis(scores, part, axis=1)
            block_ids = rows[part]
        else:
            block_ids = np.broadcast_to(rows, (nq, rows.size))
        cat_s = np.concatenate([best_s, scores], axis=1)
        cat_i = np.concatenate([best_i, block_ids], axis=1)
        order = np.lexsort((cat_i, -cat_s), axis=1)[:, :k]
        best_s = np.take_along_axis(cat_s, order, axis=1)
        best_i = np.take_along_axis(cat_i, order, axis=1)
    return best_i, best_s


def recall_at_k(vectors: np.ndarray, query: np.ndarray, ids: np.ndarray | list[int], truth_scores: np.ndarray,
                k: int = K) -> float:
    """Recall@k of ``ids`` (rows, best first) against the exact ``truth_scores`` (descending, -inf padded)."""
    truth = truth_scores[np.isfinite(truth_scores)][:k]
    if truth.size == 0:
        return 1.0
    got = np.asarray([i for i in list(ids)[:k] if i >= 0], dtype=np.int64)
    if got.size == 0:
        return 0.0
    got = np.unique(got)
    scores = np.asarray(vectors[got], dtype=np.float32) @ np.asarray(query, dtype=np.float32)
    hits = int(np.count_nonzero(scores >= float(truth[-1]) - 1e-5))
    return min(1.0, hits / truth.size)


Answer = list[tuple[int, float, bool]]  # (row, score, buyable) of each result, in answer order


def answer_recall(got: Answer, truth: Answer, k: int = K) -> float:
    """Share of the ``truth`` answer's first ``k`` results that ``got``'s first ``k`` hold.

    A result of ``got`` stands for a truth result when it is the same row or, failing that, an equivalent one:
    the same score (within 1e-5, i.e. an identical vector: copies of one product across stores) and the same
    buyable flag, each result matched once. So swapping one of several identical copies is not a miss, but a
    buyable result standing where the truth has an unbuyable one (or the reverse) is.
    """
    want = truth[:k]
    if not want:
        return 1.0
    truth_rows, got_rows = {t[0] for t in want}, {g[0] for g in got[:k]}
    hits = len(truth_rows & got_rows)
    left = [g for g in got[:k] if g[0] not in truth_rows]  # candidates to stand for a missing truth row
    for row, score, buyable in want:
        if row in got_rows:
            continue
        for i, g in enumerate(left):
            if abs(g[1] - score) <= 1e-5 and g[2] == buyable:
                hits += 1
                del left[i]
                break
    return hits / len(want)


def mean_recall(vectors: np.ndarray, queries: np.ndarray, ids: np.ndarray | list[list[int]],
                truth_scores: np.ndarray, k: int = K) -> float:
    """Mean :func:`recall_at_k` over queries."""
    vals = [recall_at_k(vectors, queries[i], ids[i], truth_scores[i], k) for i in range(len(queries))]
    return round(float(np.mean(vals)), 4) if vals else 1.0
