"""The snapshot as a user runs it at scale: built on disk by ``build_index``, opened memory-mapped (issue 14).

    python benchmarks/scale_snapshot.py --size 100000 [--source model] [--queries 100] [--json OUT.json]

Unlike ``benchmarks/scale.py`` (which assembles the snapshot in memory), each phase runs in its own process:

1. ``build``: the synthetic catalog of ``benchmarks._synth`` (real products and perturbed copies, 1,000 stores,
   vectors derived from the real model's, read by a look-up encoder so that no embedding runs) through the real
   :func:`indexer.build.index.build_index` into ``<cache>/snapshot-n<size>/home``; then the filter columns
   (:mod:`search.filter.columns`, what ``aisle index`` does after a build). Seconds and peak resident memory
   (``VmHWM``, reset at every stage through ``/proc/self/clear_refs``) per stage.
2. ``incremental``: 1 % of the products changed (title and price), ``build_index`` again: seconds per stage
   and products tokenized, against the full build.
3. ``serve`` twice (``cold``: every snapshot file evicted from the page cache with ``posix_fadvise
   (DONTNEED)`` first, ``drop_caches`` when permitted; ``warm``): the query model loaded, then the time to
   open (:meth:`Engine.open`), to the first answered hybrid query, resident memory by mapping
   (``/proc/self/smaps``: anonymous, and each snapshot file's resident pages), then p50/p95 and recall@10
   per filter selectivity exactly as ``benchmarks/scale_aisle.measure`` does.
4. ``today``: the same snapshot opened the way it was before format 2 (every product read into memory, the
   filter arrays rebuilt by a pass over the catalog), the same measurements: the baseline of this run.

Query encoder (``--query-backends``, default ``auto``): what a user's engine loads,
:func:`search.retrieval.encoding.load_query_encoder` with ``EngineSettings.query_backend`` (``auto``: ONNX Runtime
fp32, the same vectors as torch, which the synthetic vectors come from). ``--query-backends auto,torch`` measures
the torch encoder too, in the same process on the same open snapshot, the backends taking turns selectivity by
selectivity (``runs_by_backend``; ``runs`` is the first backend's): the baseline of the same run on a shared
machine. The open, first-query and memory figures are the first backend's.

Dense probing (``--nprobe index,64,56:0.6``): each ``EngineSettings.nprobe`` (``index``: the index's own; ``:P``
sets ``nprobe_power``) on each
query encoder, over the very same open snapshot and filter arrays, taking turns per selectivity (who goes first
rotates); ``runs_by_backend`` names them ``"<backend> nprobe <n>"``, each run records its ``nprobe``. The exact
ground truths (``recall_at_10``, ``engine_recall_at_10``) do not depend on it and are computed once.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
# the repository first, and not this folder (benchmarks/search.py would hide the search package)
sys.path[:] = [str(REPO)] + [p for p in sys.path if p and Path(p).resolve() != REPO / "benchmarks"]

from benchmarks._synth import cached_arrays, queries, synth_catalog  # noqa: E402
from benchmarks.scale_common import DEFAULT_CACHE, Spec, current_rss_mb, peak_rss_mb  # noqa: E402
from benchmarks.scale_probe import probe_ab, probe_costs, probe_settings  # noqa: E402


def _log(message: str) -> None:
    """A progress line on stderr (the parent passes it through: a long phase can be watched)."""
    print(f"{time.strftime('%H:%M:%S')} {message} (rss {current_rss_mb():.0f} MB)", file=sys.stderr, flush=True)


def _reset_peak() -> None:
    try:
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS (Linux >= 4.0)
    except OSError:
        pass


def _key(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")


class LookupEncoder:
    """The synthetic vectors by product text, under the real model's name (the engine encodes queries with it).

    ``table`` maps a 64-bit hash of each text to its row of ``vectors`` (a memory map): at 1M products a table
    of texts and vector views was ~1 GB of the build's memory on its own."""

    def __init__(self, name: str, table: dict[int, int], vectors: np.ndarray, dim: int) -> None:
        self.name, self.dim, self._table, self._vectors = name, dim, table, vectors

    def encode(self, texts: Any, batch_size: int = 64) -> np.ndarray:
        rows = [self._table[_key(t)] for t in texts]
        return np.asarray(self._vectors[rows], dtype=np.float32).reshape(len(rows), self.dim)


def _home(spec: Spec) -> Path:
    return spec.cache_dir / f"snapshot-n{spec.size}-{spec.source}-s{spec.seed}" / "home"


def phase_build(spec: Spec, *, incremental: bool) -> dict[str, Any]:
    """Build (or, ``incremental``, rebuild after 1 % changed) the snapshot; seconds and peak MB per stage."""
    from indexer.build.index import build_index
    from indexer.build.text import product_text
    from indexer.progress import ProgressEvent
    from indexer.workspace import Workspace
    from search.engine import Engine

    out: dict[str, Any] = {"base_rss_mb": current_rss_mb()}
    peaks: dict[str, float] = {}
    _reset_peak()
    t = time.perf_counter()
    cat = synth_catalog(spec.size, source=spec.source, seed=spec.seed, cache=spec.cache_dir, with_vectors=False)
    cached_arrays(spec.size, source=spec.source, seed=spec.seed, cache=spec.cache_dir)  # made once, in memory
    arrays = cached_arrays(spec.size, source=spec.source, seed=spec.seed, cache=spec.cache_dir)  # memory-mapped
    _log(f"records: {len(cat.products)} products made")
    products = list(cat.products)
    if incremental:  # 1 % of the products edited: a new title word and a new price
        rng = np.random.default_rng(99)
        for i in rng.choice(len(products), size=max(1, len(products) // 100), replace=False).tolist():
            p = products[i]
            products[i] = replace(p, title=f"{p.title} refreshed", variants=tuple(
                replace(v, price=(v.price or 0) + 100) for v in p.variants))
    table = {_key(product_text(p)): i for i, p in enumerate(cat.products)}
    if incremental:
        table |= {_key(product_text(p)): i for i, p in enumerate(products)}
    out["records_s"] = round(time.perf_counter() - t, 2)
    peaks["records"] = peak_rss_mb()

    def progress(ev: ProgressEvent) -> None:
        if ev.kind in ("start", "finish"):
            _log(f"{ev.task} {ev.kind}" + (f", peak {peak_rss_mb():.0f} MB" if ev.kind == "finish" else ""))
        if ev.kind == "start":
            _reset_peak()
        elif ev.kind == "finish":
            peaks[ev.task] = peak_rss_mb()

    ws = Workspace.resolve(_home(spec))
    report = build_index(products, cat.merchants, ws, encoder=LookupEncoder(arrays.model, table, arrays.vectors, 384),
                         crawled_at=cat.crawled_at, watermark=f"w-{incremental}", progress=progress)
    out["build"] = {"seconds": report.seconds, "total_s": report.total_seconds, "tokenized": report.tokenized,
                    "embedded": report.embedded, "changed": report.changed, "version": report.version}
    del products, cat, table
    _reset_peak()
    t = time.perf_counter()
    _log("columns start")
    Engine.open(ws)  # the filter columns, written once per version
    out["columns_s"] = round(time.perf_counter() - t, 2)
    peaks["columns"] = peak_rss_mb()
    out["peak_mb"] = {k: round(v, 1) for k, v in peaks.items()}
    out["bytes"] = sum(f.stat().st_size for f in (ws.indexes_dir / str(report.version)).rglob("*") if f.is_file())
    return out


def _evict(home: Path) -> str:
    """Drop the snapshot's files from the page cache; which way it could be done."""
    try:
        Path("/proc/sys/vm/drop_caches").write_text("3")
        return "drop_caches"
    except OSError:
        pass
    for f in home.rglob("*"):
        if f.is_file():
            fd = os.open(f, os.O_RDONLY)
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)
    return "posix_fadvise(DONTNEED) per file (drop_caches not permitted)"


def smaps(home: Path) -> dict[str, float]:
    """Resident MB of this process: anonymous, and file-backed by file group under ``home``."""
    out: dict[str, float] = {}
    name = "anon"
    with open("/proc/self/smaps") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) >= 5 and "-" in parts[0] and ":" in parts[3]:  # a mapping header line
                path = parts[5] if len(parts) > 5 else ""
                if path.startswith(str(home)):
                    rel = Path(path).relative_to(home).parts
                    name = "columns" if ".derived" in rel else rel[-1] if rel[-2:-1] != ("lexical",) else "lexical"
                else:
                    name = "anon" if not path or path.startswith("[") else "libraries"
            elif parts and parts[0] == "Rss:":
                out[name] = out.get(name, 0.0) + int(parts[1]) / 1024
    return {k: round(v, 1) for k, v in sorted(out.items())}


def phase_serve(spec: Spec, *, cold: bool, today: bool) -> dict[str, Any]:
    """Open the snapshot (memory-mapped, or ``today``'s way), answer, measure (see the module docstring)."""
    from benchmarks.scale_aisle import measure
    from indexer.build.snapshot import Snapshot, load_current
    from indexer.workspace import Workspace
    from search.engine import Engine, EngineSettings
    from search.schema import SearchRequest

    home = _home(spec)
    texts, qvecs = queries(spec.queries, source=spec.source, cache=spec.cache_dir)
    out: dict[str, Any] = {"evicted": _evict(home) if cold else None}
    ws = Workspace.resolve(home)
    backends = list(spec.options.get("query_backends") or ["auto"])
    t0 = time.perf_counter()
    enc = _query_encoder(spec, ws, backends[0], qvecs.shape[1])
    out["query_encoder"] = enc.name
    out["model_load_s"] = round(time.perf_counter() - t0, 2)
    out["base_rss_mb"] = current_rss_mb()
    # as benchmarks/scale_aisle, with the query encoder a user's engine loads
    settings = EngineSettings(stale_ttl_s=None, kind_threshold=None, query_backend=backends[0])
    t = time.perf_counter()
    if today:
        s = load_current(ws)
        snap = Snapshot.in_memory(products=tuple(s.products), merchants=s.merchants.values(), vectors=s.vectors,
                                  dense=s.dense, lexical=s.lexical, vocabulary=s.vocabulary, model=s.model,
                                  crawled_at=dict(s.crawled_at), dense_params=s.manifest.get("dense"),
                                  version=s.version)
        engine = Engine(snap, encoder=enc, settings=settings)
    else:
        engine = Engine.open(ws, encoder=enc, settings=settings)
    out["open_s"] = round(time.perf_counter() - t, 3)
    out["open_rss_mb"] = round(current_rss_mb() - out["base_rss_mb"], 1)
    t = time.perf_counter()
    engine.search(SearchRequest(query="red wool beanie under $40", mode="hybrid"))
    out["first_query_s"] = round(time.perf_counter() - t, 3)
    out["start_to_first_answer_s"] = round(time.perf_counter() - t0, 2)
    if spec.options.get("ab") == "nprobe":  # the --nprobe settings, request by request
        return probe_ab(spec, engine, enc, texts, out)
    if spec.options.get("ab"):
        return _ab(spec, ws, engine, texts, out)
    vectors = np.asarray(engine.snapshot.vectors)
    engines = {backends[0]: (engine, enc)}
    for b in backends[1:]:  # another query encoder over the same open snapshot
        other = _query_encoder(spec, ws, b, qvecs.shape[1])
        engines[b] = (Engine(engine.snapshot, encoder=other, workspace=ws,
                             settings=replace(settings, query_backend=b)), other)
    engines = probe_settings(engines, list(spec.options.get("nprobe") or ["index"]))
    by: dict[str, list[dict[str, Any]]] = {b: [] for b in engines}
    peak = 0.0
    exact_cache: dict[Any, Any] = {}  # exact answers do not depend on nprobe: computed once per encoder and request
    for i, sel in enumerate(spec.selectivities):  # the settings take turns per selectivity: the same load for each
        names = list(engines)
        for b in names[i % len(names):] + names[: i % len(names)]:  # who goes first rotates
            eng, e = engines[b]
            runs, pk = measure(replace(spec, selectivities=[sel]), eng, e, vectors, texts, qvecs, exact_cache)
            for r in runs:
                r["nprobe"], r["nprobe_power"] = eng.settings.nprobe, eng.settings.nprobe_power
            by[b] += runs
            peak = max(peak, pk)
    if len(engines) > 1 and spec.options.get("nprobe", ["index"]) != ["index"]:
        out["dense_search_ms_p50_mean"] = probe_costs(spec, engines, qvecs)
    for runs in by.values():
        for r in runs:
            r["retrieval"].pop("ids", None)
    out["runs"] = next(iter(by.values()))  # the first backend's (its first nprobe setting)
    if len(engines) > 1:
        out["runs_by_backend"] = {f"{b} ({e.name})": runs for (b, runs), (_, e) in zip(by.items(), engines.values(),
                                                                                      strict=True)}
    out["after_queries_rss_mb"] = round(current_rss_mb() - out["base_rss_mb"], 1)
    out["peak_rss_mb"] = round(peak - out["base_rss_mb"], 1)
    out["smaps_mb"] = smaps(home)
    out["dense_index_bytes"] = (home / "indexes" / engine.snapshot.version / "dense.faiss").stat().st_size
    return out


def _ab(spec: Spec, ws: Any, engine: Any, texts: list[str], out: dict[str, Any]) -> dict[str, Any]:
    """``--ab SETTING``: the engine as opened against one with the boolean SETTING flipped, over the same open
    snapshot and query encoder, request by request (:mod:`benchmarks.scale_ab`), dense and hybrid per selectivity."""
    from benchmarks._synth import allowed_merchants
    from benchmarks.scale_ab import ab_runs, flipped
    from search.schema import Filters, SearchRequest

    engines = flipped(engine, str(spec.options["ab"]))
    for e in engines.values():
        e.search(SearchRequest(query="warm up the encoder", mode="dense"))
    requests: dict[str, list[Any]] = {}
    for sel in spec.selectivities:
        merchants = allowed_merchants(sel)
        filters = Filters(merchant=merchants) if merchants else None
        for mode in ("dense", "hybrid"):
            requests[f"{mode} {sel * 100:g} %"] = [SearchRequest(query=t, mode=mode, filters=filters, limit=10)
                                                   for t in texts]
    out["ab"] = ab_runs(engines, requests, spec.repeat)
    out["after_queries_rss_mb"] = round(current_rss_mb() - out["base_rss_mb"], 1)
    return out


def _query_encoder(spec: Spec, ws: Any, backend: str, dim: int) -> Any:
    """The query encoder an engine with ``query_backend=backend`` loads for the snapshot (recording its vectors);
    the hashing encoder for ``--source hashing``."""
    from benchmarks._synth import MODEL_NAME
    from benchmarks.scale_aisle import RecordingEncoder
    from indexer.build.embed import load_encoder, onnx_cache_dir
    from search.retrieval.encoding import load_query_encoder

    inner = (load_query_encoder(MODEL_NAME, backend, cache_dir=onnx_cache_dir(ws)) if spec.source == "model"
             else load_encoder(f"hashing-{dim}"))
    enc = RecordingEncoder(inner)
    enc.encode(["warm up"])
    return enc


def _child(spec: Spec, phase: str) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", spec.to_json(), "--phase", phase]
    res = subprocess.run(cmd, stdout=subprocess.PIPE, text=True,  # stderr (progress, errors) passes through
                         env={**os.environ, "TOKENIZERS_PARALLELISM": "false"})
    if res.returncode:
        raise SystemExit(f"{phase} failed (exit {res.returncode}; its stderr is above)")
    return dict(json.loads(res.stdout.strip().splitlines()[-1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=100_000)
    ap.add_argument("--source", default="model", choices=("model", "hashing"))
    ap.add_argument("--queries", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    ap.add_argument("--phases", default="build,incremental,cold,warm,today")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--query-backends", default="auto",
                    help="query encoders, comma-separated (auto = the engine's default, ONNX; torch); the first "
                         "is the main figure, the others are measured beside it in the same process")
    ap.add_argument("--ab", default=None, metavar="SETTING",
                    help="a boolean EngineSettings field (e.g. prefetch_query_vector), or FIELD=VALUE for a string "
                         "one (prf_rescore=never): the serving phases answer every request with it as it is and "
                         "flipped (or set), taking turns, instead of the table (benchmarks/scale_ab.py)")
    ap.add_argument("--nprobe", default="index",
                    help="EngineSettings.nprobe values, comma-separated, each N or N:POWER (nprobe_power; index = "
                         "the index's own nprobe): each measured on the same open snapshot, taking turns per "
                         "selectivity (runs_by_backend); with --ab nprobe, request by request")
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--phase", default=None, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker:
        spec = Spec.from_json(a.worker)
        fn = {"build": lambda: phase_build(spec, incremental=False),
              "incremental": lambda: phase_build(spec, incremental=True),
              "cold": lambda: phase_serve(spec, cold=True, today=False),
              "warm": lambda: phase_serve(spec, cold=False, today=False),
              "today": lambda: phase_serve(spec, cold=False, today=True)}[a.phase]
        print(json.dumps(fn()))
        return
    spec = Spec(engine="aisle", size=a.size, queries=a.queries, source=a.source, cache=str(a.cache), repeat=a.repeat,
                options={"query_backends": [b.strip() for b in a.query_backends.split(",") if b.strip()],
                         "nprobe": [p.strip() for p in a.nprobe.split(",") if p.strip()],
                         **({"ab": a.ab} if a.ab else {})})
    report: dict[str, Any] = {"size": a.size, "source": a.source, "command": " ".join(sys.argv)}
    for phase in a.phases.split(","):
        t = time.perf_counter()
        load = os.getloadavg()[0]
        report[phase] = _child(spec, phase)
        report[phase]["load_average"] = [round(load, 2), round(os.getloadavg()[0], 2)]  # 1-min, start and end
        print(f"{phase}: {time.perf_counter() - t:.0f} s {json.dumps(report[phase])[:1500]}", flush=True)
        for line in _table(report[phase]):
            print(line, flush=True)
        if a.json:
            a.json.write_text(json.dumps(report, indent=1))


def _table(res: dict[str, Any]) -> list[str]:
    """A serving phase's latency and recall per query encoder and selectivity, as Markdown rows."""
    if "ab" in res:
        from benchmarks.scale_ab import ab_table

        return [f"load average {res['load_average'][0]} -> {res['load_average'][1]}", *ab_table(res["ab"])]
    if "runs" not in res:
        return []
    by = res.get("runs_by_backend") or {res.get("query_encoder", "?"): res["runs"]}

    def ms(d: dict[str, Any]) -> str:
        return f"{d['p50_ms']:.1f} / {d['p95_ms']:.1f}" if d.get("p50_ms") is not None else "-"

    lines = [f"load average {res['load_average'][0]} -> {res['load_average'][1]}",
             "| query encoder | selectivity | dense p50 / p95 ms | dense recall@10 | engine_recall_at_10 "
             "| hybrid p50 / p95 ms | retrieval p50 ms |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for name, cost in (res.get("dense_search_ms_p50_mean") or {}).items():
        lines.insert(1, f"dense search alone, ms p50 / mean by selectivity, {name}: {cost}")
    for name, runs in by.items():
        for r in runs:
            lines.append(f"| {name} | {r['selectivity'] * 100:g} % | {ms(r['dense'])} | "
                         f"{r['dense'].get('recall_at_10')} | {r['dense'].get('engine_recall_at_10')} | "
                         f"{ms(r.get('hybrid', {}))} | {r['retrieval']['p50_ms']:.2f} |")
    return lines


if __name__ == "__main__":
    main()
