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
    from benchmarks.scale_aisle import RecordingEncoder, measure
    from indexer.build.embed import load_encoder
    from indexer.build.snapshot import Snapshot, load_current
    from indexer.workspace import Workspace
    from search.engine import Engine, EngineSettings
    from search.schema import SearchRequest

    home = _home(spec)
    texts, qvecs = queries(spec.queries, source=spec.source, cache=spec.cache_dir)
    out: dict[str, Any] = {"evicted": _evict(home) if cold else None}
    t0 = time.perf_counter()
    enc = RecordingEncoder(load_encoder(None, backend="torch") if spec.source == "model"  # as the vectors
                          else load_encoder(f"hashing-{qvecs.shape[1]}"))
    enc.encode(["warm up"])
    out["model_load_s"] = round(time.perf_counter() - t0, 2)
    out["base_rss_mb"] = current_rss_mb()
    settings = EngineSettings(stale_ttl_s=None, kind_threshold=None)  # as benchmarks/scale_aisle
    t = time.perf_counter()
    ws = Workspace.resolve(home)
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
    vectors = np.asarray(engine.snapshot.vectors)
    out["runs"], peak = measure(spec, engine, enc, vectors, texts, qvecs)
    for r in out["runs"]:
        r["retrieval"].pop("ids", None)
    out["after_queries_rss_mb"] = round(current_rss_mb() - out["base_rss_mb"], 1)
    out["peak_rss_mb"] = round(peak - out["base_rss_mb"], 1)
    out["smaps_mb"] = smaps(home)
    out["dense_index_bytes"] = (home / "indexes" / engine.snapshot.version / "dense.faiss").stat().st_size
    return out


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
    spec = Spec(engine="aisle", size=a.size, queries=a.queries, source=a.source, cache=str(a.cache), repeat=a.repeat)
    report: dict[str, Any] = {"size": a.size, "source": a.source, "command": " ".join(sys.argv)}
    for phase in a.phases.split(","):
        t = time.perf_counter()
        report[phase] = _child(spec, phase)
        print(f"{phase}: {time.perf_counter() - t:.0f} s {json.dumps(report[phase])[:1500]}", flush=True)
        if a.json:
            a.json.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
