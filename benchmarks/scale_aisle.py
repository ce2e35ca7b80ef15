"""aisle in the scale benchmark: build the engine over a synthetic catalog, then measure it.

Build (:func:`build_engine`), each stage timed: the synthetic product records
(:func:`benchmarks._synth.synth_catalog`, not counted as index build), the attribute vocabulary, BM25
(:class:`indexer.build.lexical.LexicalIndex`), the dense index (:func:`indexer.build.dense.build_dense`, the
index builder's own choice of index type and parameters for this size) and the engine's per-snapshot
arrays (:class:`search.engine.Engine` construction). The snapshot is assembled in memory from those
parts (the same :class:`indexer.build.snapshot.Snapshot` a load returns), so the product records are the
synthetic generator's, which share immutable sub-records between copies. BM25 and the dense index are
cached under the cache folder (their build seconds with them), so a rerun costs the query time only.

Measured per selectivity (:func:`measure`):

* ``dense`` end to end: :meth:`Engine.search` with the merchant filter, ``mode="dense"``, limit 10,
  the engine's query-vector cache cleared before every call, so each call parses, embeds the query
  with the model, computes the allowed rows, retrieves, picks variants and answers eligibility.
  Recall@10 is computed afterwards against exact brute force over the rows the engine's filter
  allows for that request (the interpretation may add a parsed constraint, e.g. a colour), with the
  very vector the engine embedded (a recording encoder keeps it). That is how close the final answer
  stays to pure nearest neighbours: the engine's deliberate rules depart from it (``buyable_first``, on by
  default, puts buyable results first within a band of similar scores, so an in-stock copy at cosine 0.6307
  can stand where an out-of-stock one at 0.6328 would; a message naming several items is answered item by
  item), so it is not the index's recall. ``engine_recall_at_10`` is: the same requests answered by the same
  engine with exact vector search (:meth:`Engine.with_dense` ``None``: every allowed row scored), the
  answers compared result for result (:func:`benchmarks.scale_common.answer_recall`).
* ``retrieval``: the filtered vector retrieval alone, query vector given: the engine's filter
  (:func:`search.filter.variants.allowed_rows`) and
  :func:`search.retrieval.retrieve.retrieve` in dense mode, top 10; what the peers are measured on.
* ``hybrid`` end to end: as ``dense`` with ``mode="hybrid"`` (BM25 + dense, RRF); latency only.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks._synth import MODEL_NAME, allowed_merchants, cached_arrays, synth_catalog
from benchmarks.scale_common import (
    Answer,
    K,
    Spec,
    answer_recall,
    current_rss_mb,
    exact_topk,
    peak_rss_mb,
    percentiles,
    recall_at_k,
)
from indexer.build.dense import EXACT_MAX_ROWS, build_dense, read_dense, write_dense
from indexer.build.embed import Encoder, load_encoder
from indexer.build.lexical import LexicalIndex
from indexer.build.snapshot import Snapshot
from indexer.build.text import lexical_text
from indexer.build.vocabulary import Vocabulary
from search.engine import Engine, EngineSettings
from search.filter.constraints import Constraints
from search.filter.variants import allowed_rows, rows_of, satisfying_mask
from search.retrieval.retrieve import retrieve
from search.schema import Filters, SearchRequest

REPO = Path(__file__).resolve().parents[1]


class RecordingEncoder:
    """Wraps the engine's encoder and keeps the last vector it produced (for end-to-end recall)."""

    def __init__(self, inner: Encoder) -> None:
        self.inner = inner
        self.last: np.ndarray | None = None

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dim(self) -> int:
        return self.inner.dim

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        out = self.inner.encode(texts, batch_size=batch_size)
        self.last = np.array(out[-1], dtype=np.float32) if len(out) else None
        return out


def _cached(folder: Path, name: str, build: Any, load: Any, save: Any) -> tuple[Any, float, bool]:
    """(object, build seconds, from cache): ``load`` it from ``folder/name`` or ``build`` and ``save`` it."""
    meta = folder / f"{name}.json"
    if meta.exists():
        try:
            return load(folder / name), float(json.loads(meta.read_text())["build_s"]), True
        except (OSError, ValueError, KeyError, RuntimeError):
            pass
    t = time.perf_counter()
    obj = build()
    seconds = time.perf_counter() - t
    save(obj, folder / name)
    meta.write_text(json.dumps({"build_s": seconds}))
    return obj, seconds, False


def code_key(what: str) -> str:
    """Hash of the source files that decide how ``what`` ("lexical" or "dense") is built: a cached
    index is reused only while they are unchanged. Taken when this module is imported, together with
    the modules themselves, so a file edited during a run cannot label an index built by older code."""
    return _CODE_KEYS[what]


def _code_key(files: tuple[str, ...]) -> str:
    h = hashlib.sha256()
    for rel in files:
        path = REPO / rel
        h.update(path.read_bytes() if path.exists() else b"")
    return h.hexdigest()[:12]


_CODE_KEYS = {"lexical": _code_key(("indexer/lexical.py", "indexer/text.py")),
              "dense": _code_key(("indexer/dense.py", "indexer/ivf.py"))}


def dense_cache_name(exact_max: int) -> str:
    """File name of the cached dense index for this threshold and index-building code."""
    return f"dense-max{exact_max}-{code_key('dense')}.faiss"


def lexical_cache_name() -> str:
    """Directory name of the cached BM25 index for this tokenizer and text recipe."""
    return f"lexical-{code_key('lexical')}"


def build_engine(spec: Spec) -> tuple[Engine, RecordingEncoder, np.ndarray, dict[str, Any]]:
    """The engine over a ``spec.size`` synthetic catalog; returns (engine, encoder, vectors, build details)."""
    cache = spec.cache_dir
    detail: dict[str, Any] = {}
    arrays = cached_arrays(spec.size, source=spec.source, seed=spec.seed, cache=cache)
    rss: dict[str, float] = {"start": current_rss_mb()}
    t = time.perf_counter()
    cat = synth_catalog(spec.size, source=spec.source, seed=spec.seed, cache=cache, with_vectors=False)
    detail["records_s"] = round(time.perf_counter() - t, 2)
    rss["records"] = current_rss_mb()
    vectors = arrays.vectors
    folder = cache / f"aisle-n{spec.size}-{spec.source}-s{spec.seed}"
    folder.mkdir(parents=True, exist_ok=True)

    t = time.perf_counter()
    vocabulary = Vocabulary.build(cat.products)
    detail["vocabulary_s"] = round(time.perf_counter() - t, 2)
    rss["vocabulary"] = current_rss_mb()

    def build_lex() -> LexicalIndex:
        return LexicalIndex.build([lexical_text(p) for p in cat.products])

    lexical, lex_s, lex_cached = _cached(folder, lexical_cache_name(), build_lex, LexicalIndex.load,
                                         lambda obj, path: obj.save(path))
    detail["lexical_s"], detail["lexical_cached"] = round(lex_s, 2), lex_cached
    rss["lexical"] = current_rss_mb()

    exact_max = spec.exact_max_rows if spec.exact_max_rows is not None else EXACT_MAX_ROWS
    params_holder: dict[str, Any] = {}

    def build_dn() -> Any:
        index, params = build_dense(vectors, exact_max_rows=exact_max)
        params_holder.update(params)
        return index

    def save_dn(index: Any, path: Path) -> None:
        write_dense(index, str(path))
        (path.parent / f"{path.name}.params.json").write_text(json.dumps(params_holder))

    dname = dense_cache_name(exact_max)
    dense, dense_s, dense_cached = _cached(folder, dname, build_dn, lambda p: read_dense(str(p)), save_dn)
    params = json.loads((folder / f"{dname}.params.json").read_text())
    from indexer.build.dense import apply_search_params

    apply_search_params(dense, params)
    detail["dense_s"], detail["dense_cached"], detail["dense"] = round(dense_s, 2), dense_cached, params
    rss["dense"] = current_rss_mb()

    snapshot = Snapshot.in_memory(products=cat.products, merchants=cat.merchants, vectors=vectors, dense=dense,
                                  lexical=lexical, vocabulary=vocabulary, model=arrays.model,
                                  crawled_at=cat.crawled_at, dense_params=params, path=folder)
    # torch for the real model: the backend the synthetic vectors come from (a default backend would not match)
    encoder = RecordingEncoder(load_encoder(arrays.model, backend="torch" if arrays.model == MODEL_NAME else None))
    t = time.perf_counter()
    # Recall here is retrieval recall against brute force over the filter's allowed rows: the relevance floor
    # (a relevance decision, measured on the dev set) is off so that the answer set is the allowed set.
    engine = Engine(snapshot, encoder=encoder, settings=EngineSettings(stale_ttl_s=None, kind_threshold=None))
    detail["engine_arrays_s"] = round(time.perf_counter() - t, 2)
    rss["engine_arrays"] = current_rss_mb()
    names = list(rss)
    # resident MB each stage added (records: the Product objects; lexical: BM25 arrays; dense: FAISS)
    detail["rss_mb_added"] = {b: round(rss[b] - rss[a], 1) for a, b in zip(names, names[1:], strict=False)}
    detail["build_s"] = round(detail["vocabulary_s"] + detail["lexical_s"] + detail["dense_s"]
                              + detail["engine_arrays_s"], 2)
    return engine, encoder, vectors, detail


def retrieval_rows(engine: Engine, q: np.ndarray, cons: Constraints | None) -> np.ndarray:
    """The engine's filtered dense retrieval, top K, query vector given (filter included in the time)."""
    snap = engine.snapshot
    cat = engine.catalog
    allowed = None
    if cons is not None:
        _, allowed = allowed_rows(cat, cons)  # the engine's filter step
    ranked = retrieve(mode="dense", text="q", lexical_index=snap.lexical, dense_index=snap.dense,
                      vectors=snap.vectors, encode=lambda _t: q, depth=K, allowed=allowed,
                      exact_threshold=engine.settings.exact_threshold,
                      probe=(engine.settings.nprobe, engine.settings.nprobe_power))
    return ranked.rows


Run = tuple[SearchRequest, list[int], np.ndarray | None, Answer]  # request, rows, vector, answer


def _answer(engine: Engine, resp: Any) -> Answer:
    """(row, score, buyable) of each result of ``resp``."""
    out = [(engine.snapshot.row_of(x.doc_id), float(x.score), bool(x.buy.eligible)) for x in resp.results]
    return [(int(r), sc, b) for r, sc, b in out if r is not None]


def _e2e(engine: Engine, enc: RecordingEncoder, texts: list[str], filters: Filters | None, mode: str,
         passes: int) -> tuple[list[float], list[Run]]:
    """End-to-end latencies (ms) of the timed passes, and per query of the last pass (request, rows, vector,
    answer)."""
    times: list[float] = []
    last: list[Run] = []
    for rep in range(passes + 1):  # pass 0 warms caches and is not timed
        last = []
        for text in texts:
            req = SearchRequest(query=text, mode=mode, filters=filters, limit=K)  # type: ignore[arg-type]
            engine.clear_query_cache()
            enc.last = None
            t = time.perf_counter()
            resp = engine.search(req)
            dt = (time.perf_counter() - t) * 1000.0
            if rep:
                times.append(dt)
            answer = _answer(engine, resp)
            last.append((req, [a[0] for a in answer], enc.last, answer))
    return times, last


def _engine_recall(engine: Engine, runs: list[Run], cache: dict[Any, Any] | None = None) -> float | None:
    """Mean recall@10 of the answers against the same engine's answers with exact vector search (module doc).
    ``cache``: exact answers by (encoder, request), shared by engines that differ only in their dense index or
    its probing."""
    exact = engine.with_dense(None)
    memo = {} if cache is None else cache
    name = getattr(engine.encoder, "name", None)
    vals = []
    for req, _, _, answer in runs:
        key = ("engine", name, req.model_dump_json())
        if key not in memo:
            memo[key] = _answer(exact, exact.search(req))
        vals.append(answer_recall(answer, memo[key], K))
    return round(float(np.mean(vals)), 4) if vals else None


def _e2e_recall(engine: Engine, vectors: np.ndarray, runs: list[Run],
                cache: dict[Any, Any] | None = None) -> tuple[float | None, int]:
    """Mean recall@10 of dense end-to-end answers against exact search over the rows the engine's filter
    allows for each request; also how many queries had no vector search (only constraints, browsed).
    ``cache``: the exact top rows by (query vector, request), shared by engines over the same snapshot."""
    cat = engine.catalog
    vals: list[float] = []
    browsed = 0
    memo = {} if cache is None else cache
    for req, rows, vec, _ in runs:
        if vec is None:
            browsed += 1
            continue
        key = ("truth", np.asarray(vec, dtype=np.float32).tobytes(), req.model_dump_json())
        if key not in memo:
            it = engine.interpret(req)
            vmask = satisfying_mask(cat, it.constraints)
            mask = None
            if vmask is not None:
                mask = np.zeros(vectors.shape[0], dtype=bool)
                mask[rows_of(cat, vmask)] = True
            memo[key] = exact_topk(vectors, vec[None, :], mask, K)[1][0]
        vals.append(recall_at_k(vectors, vec, rows, memo[key], K))
    return (round(float(np.mean(vals)), 4) if vals else None), browsed


def measure(spec: Spec, engine: Engine, enc: RecordingEncoder, vectors: np.ndarray, texts: list[str],
            qvecs: np.ndarray, exact_cache: dict[Any, Any] | None = None) -> tuple[list[dict[str, Any]], float]:
    """Every measurement of the module docstring, per selectivity; and the peak RSS once every query ran
    (before the end-to-end ground truth, whose brute force reads every vector, is computed). ``exact_cache``:
    ground truths kept across calls (engines differing only in dense probing share them)."""
    out: list[dict[str, Any]] = []
    pending: list[list[Run]] = []
    engine.search(SearchRequest(query="warm up the encoder", mode="dense"))
    for sel in spec.selectivities:
        merchants = allowed_merchants(sel)
        filters = Filters(merchant=merchants) if merchants else None
        cons = Constraints(merchants=tuple(merchants)) if merchants else None
        r_times: list[float] = []
        ids = np.full((len(qvecs), K), -1, dtype=np.int64)
        for rep in range(spec.repeat + 1):
            for i, q in enumerate(qvecs):
                t = time.perf_counter()
                rows = retrieval_rows(engine, q, cons)
                if rep:
                    r_times.append((time.perf_counter() - t) * 1000.0)
                ids[i, : min(K, len(rows))] = rows[:K]
        d_times, d_runs = _e2e(engine, enc, texts, filters, "dense", spec.repeat)
        pending.append(d_runs)
        res: dict[str, Any] = {"selectivity": sel, "dense": percentiles(d_times),
                               "retrieval": {**percentiles(r_times), "ids": ids.tolist()}}
        if spec.hybrid:
            h_times, _ = _e2e(engine, enc, texts, filters, "hybrid", spec.repeat)
            res["hybrid"] = percentiles(h_times)
        out.append(res)
    peak = peak_rss_mb()
    for res, d_runs in zip(out, pending, strict=True):
        recall, browsed = _e2e_recall(engine, vectors, d_runs, exact_cache)
        res["dense"].update({"recall_at_10": recall, "browsed": browsed,
                             "engine_recall_at_10": _engine_recall(engine, d_runs, exact_cache)})
    return out, peak
