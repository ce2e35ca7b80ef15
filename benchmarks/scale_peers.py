"""The peers of the scale benchmark, on the same vectors, queries and filters as aisle: retrieval alone.

* **faiss-flat-postfilter** (:func:`faiss_flat`): plain ``IndexFlatIP`` over every row, then
  post-filtering: ask for ``2 * 10 / selectivity`` neighbours (twice the number that holds ten allowed
  rows on average), keep the allowed ones, and ask again four times deeper while fewer than ten are
  allowed. Exact, so its recall is 1.0 up to ties; its cost is the full scan plus the deep heap.
  Searched on one OpenMP thread, like aisle's query path: on this busy 2-core machine a single-query
  flat search on every thread was 3-5x slower than on one.
* **lancedb** (:func:`lancedb_build`, :func:`lancedb_serve`): embedded LanceDB (a table in the cache
  folder: ``id``, ``grp`` (the store number), ``vector`` (384 float32) and, up to
  ``Spec.lancedb_hybrid_max`` rows, ``text`` = aisle's lexical text). The filter is the where-clause
  ``grp < s * 1000`` with ``prefilter=True`` (a BTree scalar index on ``grp``), the same rows
  aisle's merchant filter allows. Up to :data:`LANCE_FLAT_MAX` rows the search is flat (exact);
  above, two tables with LanceDB's two families of vector index (defaults for partitions, ``m`` and
  ``ef_construction``, dot product): ``IVF_HNSW_SQ`` (graphs inside partitions: fast, but its recall
  stays low on this data however wide the beam) and ``IVF_SQ`` (partitions scanned with 8-bit codes,
  the analogue of aisle's index), each queried at its defaults and a few wider settings
  (:data:`LANCE_INDEXES`: ``nprobes``, HNSW ``ef``, ``refine_factor``), so that the table shows
  LanceDB's latency at the recall aisle reaches. Hybrid mode (native FTS index + vector, LanceDB's
  default RRF reranker) is timed with the query text, where the text column exists.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks._synth import GROUPS, synth_catalog
from benchmarks.scale_common import K, Spec, allowed_mask, npy_chunks, percentiles

LANCE_FLAT_MAX = 20_000
# Query settings swept on the ANN index: LanceDB's defaults, then a wider HNSW beam (ef) and a refine
# step (re-scoring refine_factor * k candidates with the full vectors). Measured at 100k rows here:
# recall@10 0.87 with the defaults, 0.95 at ef 64, 0.97-0.99 at ef 128-256 with refine_factor 2.
# On IVF_SQ (no graph: partitions scanned with 8-bit codes), the defaults (20 partitions probed) and
# 50 partitions with refine_factor 2.
LANCE_INDEXES: dict[str, tuple[dict[str, int], ...]] = {
    "IVF_HNSW_SQ": ({}, {"ef": 64}, {"ef": 128, "refine_factor": 2}, {"ef": 256, "refine_factor": 2}),
    "IVF_SQ": ({}, {"nprobes": 50, "refine_factor": 2}),
}


def faiss_flat(spec: Spec, vectors_npy: Path, group: np.ndarray, qvecs: np.ndarray) -> dict[str, Any]:
    """Build ``IndexFlatIP`` from the vectors file and time post-filtered search at every selectivity."""
    import faiss

    t = time.perf_counter()
    index: Any = None
    for block in npy_chunks(vectors_npy):  # plain reads: the index holds the only copy
        if index is None:
            index = faiss.IndexFlatIP(block.shape[1])
        index.add(np.ascontiguousarray(block, dtype=np.float32))
    build_s = time.perf_counter() - t
    n = index.ntotal
    faiss.omp_set_num_threads(1)  # single queries: one thread, as aisle (every thread was 3-5x slower here)
    runs = []
    for sel in spec.selectivities:
        mask = allowed_mask(group, sel, GROUPS)
        times: list[float] = []
        ids = np.full((len(qvecs), K), -1, dtype=np.int64)
        for rep in range(spec.repeat + 1):
            for i, q in enumerate(qvecs):
                t = time.perf_counter()
                kk = min(n, int(np.ceil(2 * K / sel)))
                while True:
                    _, found = index.search(q[None, :], kk)
                    got = found[0][found[0] >= 0]
                    if mask is not None:
                        got = got[mask[got]]
                    if len(got) >= K or kk >= n:
                        break
                    kk = min(n, kk * 4)
                if rep:
                    times.append((time.perf_counter() - t) * 1000.0)
                ids[i, : min(K, len(got))] = got[:K]
        runs.append({"selectivity": sel, "params": {"oversample": 2}, "retrieval": {**percentiles(times),
                                                                                    "ids": ids.tolist()}})
    return {"build_s": round(build_s, 2), "runs": runs}


def _lance_dir(spec: Spec) -> Path:
    return spec.cache_dir / f"lance-n{spec.size}-{spec.source}-s{spec.seed}"


def _lance_kinds(spec: Spec) -> list[str]:
    return ["flat"] if spec.size <= LANCE_FLAT_MAX else list(LANCE_INDEXES)


def _lance_table(kind: str) -> tuple[str, str]:
    """(table name, build metadata file) of one LanceDB variant."""
    return ("products", "build.json") if kind in ("flat", "IVF_HNSW_SQ") else (f"products_{kind.lower()}",
                                                                            f"build-{kind}.json")


def lancedb_built(spec: Spec) -> bool:
    """Whether every LanceDB table this size needs is in the cache."""
    return all((_lance_dir(spec) / _lance_table(k)[1]).exists() for k in _lance_kinds(spec))


def _quiet() -> None:
    os.environ.setdefault("RUST_LOG", "error")  # LanceDB logs a deprecation warning per query otherwise
    os.environ.setdefault("LANCE_LOG", "error")


def _texts(spec: Spec) -> list[str]:
    from indexer.build.text import lexical_text

    cat = synth_catalog(spec.size, source=spec.source, seed=spec.seed, cache=spec.cache_dir, with_vectors=False)
    return [lexical_text(p) for p in cat.products]


def _build_one(spec: Spec, kind: str, vectors: np.ndarray, group: np.ndarray, texts: list[str] | None
               ) -> dict[str, Any]:
    import lancedb
    import pyarrow as pa
    from lancedb.index import FTS, BTree, IvfHnswSq, IvfSq

    name, _ = _lance_table(kind)
    n, dim = vectors.shape
    fields = [pa.field("id", pa.int64()), pa.field("grp", pa.int32()),
              pa.field("vector", pa.list_(pa.float32(), dim))]
    if texts is not None:
        fields.append(pa.field("text", pa.string()))
    schema = pa.schema(fields)

    def batches() -> Any:
        for start in range(0, n, 65_536):
            stop = min(n, start + 65_536)
            flat = pa.array(np.ascontiguousarray(vectors[start:stop], dtype=np.float32).reshape(-1))
            cols = [pa.array(np.arange(start, stop, dtype=np.int64)), pa.array(np.asarray(group[start:stop],
                                                                                         dtype=np.int32)),
                    pa.FixedSizeListArray.from_arrays(flat, dim)]
            if texts is not None:
                cols.append(pa.array(texts[start:stop]))
            yield pa.record_batch(cols, schema=schema)

    seconds: dict[str, float] = {}
    t = time.perf_counter()
    db = lancedb.connect(str(_lance_dir(spec)))
    table = db.create_table(name, data=batches(), schema=schema, mode="overwrite")
    seconds["table_s"] = time.perf_counter() - t
    t = time.perf_counter()
    table.create_index("grp", config=BTree())
    seconds["scalar_index_s"] = time.perf_counter() - t
    if kind != "flat":
        t = time.perf_counter()
        config = IvfHnswSq(distance_type="dot") if kind == "IVF_HNSW_SQ" else IvfSq(distance_type="dot")
        table.create_index("vector", config=config)
        seconds["vector_index_s"] = time.perf_counter() - t
    if texts is not None:
        t = time.perf_counter()
        table.create_index("text", config=FTS())
        seconds["fts_index_s"] = time.perf_counter() - t
    return {"build_s": round(sum(seconds.values()), 2), "detail": {k: round(v, 2) for k, v in seconds.items()},
            "index": kind, "text": texts is not None}


def lancedb_build(spec: Spec, vectors: np.ndarray, group: np.ndarray) -> dict[str, Any]:
    """Create each table and its indexes in the cache folder (a complete one is reused); returns build seconds.

    The table that gets the text column (for hybrid) is the flat one, or the IVF_HNSW_SQ one."""
    _quiet()
    folder = _lance_dir(spec)
    folder.mkdir(parents=True, exist_ok=True)
    with_text = spec.hybrid and spec.size <= spec.lancedb_hybrid_max
    tables: dict[str, Any] = {}
    for kind in _lance_kinds(spec):
        meta_path = folder / _lance_table(kind)[1]
        if meta_path.exists():
            tables[kind] = {**json.loads(meta_path.read_text()), "cached": True}
            continue
        texts = _texts(spec) if with_text and kind in ("flat", "IVF_HNSW_SQ") else None
        meta = _build_one(spec, kind, vectors, group, texts)
        meta_path.write_text(json.dumps(meta))
        tables[kind] = {**meta, "cached": False}
    return {"build_s": round(sum(t["build_s"] for t in tables.values()), 2), "tables": tables}


def _ids(table: Any) -> list[int]:
    return [int(x) for x in table.column("id").to_pylist()]


def lancedb_serve(spec: Spec, qvecs: np.ndarray, texts: list[str]) -> dict[str, Any]:
    """Open the tables built by :func:`lancedb_build` and time filtered vector (and hybrid) search."""
    _quiet()
    import lancedb

    folder = _lance_dir(spec)
    db = lancedb.connect(str(folder))
    runs = []
    metas = {}
    for kind in _lance_kinds(spec):
        name, meta_file = _lance_table(kind)
        meta = metas[kind] = json.loads((folder / meta_file).read_text())
        table = db.open_table(name)
        settings = [{}] if kind == "flat" else list(spec.options.get(f"lancedb_{kind}", LANCE_INDEXES[kind]))
        for sel in spec.selectivities:
            where = f"grp < {round(sel * GROUPS)}" if sel < 1.0 else None
            for setting in settings:
                times, ids = _vector_runs(spec, table, qvecs, where, setting)
                runs.append({"selectivity": sel, "params": {"index": kind, **setting}, "build_s": meta["build_s"],
                             "retrieval": {**percentiles(times), "ids": ids.tolist()}})
            if meta.get("text"):
                times, errors = _hybrid_runs(spec, table, qvecs, texts, where)
                runs.append({"selectivity": sel, "mode": "hybrid", "build_s": meta["build_s"],
                             "params": {"index": kind, "fts": True, "errors": errors},
                             "retrieval": percentiles(times)})
    return {"build_s": round(sum(m["build_s"] for m in metas.values()), 2), "build_detail": metas, "runs": runs}


def _vector_runs(spec: Spec, table: Any, qvecs: np.ndarray, where: str | None, setting: dict[str, int]
                 ) -> tuple[list[float], np.ndarray]:
    times: list[float] = []
    ids = np.full((len(qvecs), K), -1, dtype=np.int64)
    for rep in range(spec.repeat + 1):
        for i, q in enumerate(qvecs):
            t = time.perf_counter()
            query: Any = table.search(q)
            query = query.distance_type("dot")
            if where:
                query = query.where(where, prefilter=True)
            if "nprobes" in setting:
                query = query.nprobes(setting["nprobes"])
            if "ef" in setting:
                query = query.ef(setting["ef"])
            if "refine_factor" in setting:
                query = query.refine_factor(setting["refine_factor"])
            got = _ids(query.limit(K).select(["id"]).to_arrow())
            if rep:
                times.append((time.perf_counter() - t) * 1000.0)
            ids[i, : min(K, len(got))] = got[:K]
    return times, ids


def _hybrid_runs(spec: Spec, table: Any, qvecs: np.ndarray, texts: list[str], where: str | None
                 ) -> tuple[list[float], int]:
    times: list[float] = []
    errors = 0
    for rep in range(spec.repeat + 1):
        for q, text in zip(qvecs, texts, strict=True):
            t = time.perf_counter()
            hquery: Any = table.search(query_type="hybrid")
            query = hquery.vector(q).text(text)
            if where:
                query = query.where(where, prefilter=True)
            try:
                query.limit(K).select(["id"]).to_arrow()
            except Exception:  # noqa: BLE001 - a query LanceDB's FTS parser refuses: counted, not timed
                errors += rep > 0
                continue
            if rep:
                times.append((time.perf_counter() - t) * 1000.0)
    return times, errors
