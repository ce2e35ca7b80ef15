"""Scatter-gather latency over a snapshot on disk (the 1M one): single snapshot, shards in-process, Ray actors.

Called by ``python benchmarks/ray.py latency-home --home H --out D [--shards 2 4 8] [--queries 60]``.

* ``H`` is read only: ``D/home`` is a workspace of its own whose ``indexes/<version>`` is a symbolic link to
  ``H``'s current version (read-only files) and whose filter columns (``indexes/.derived``) are a copy, so that
  nothing the engine derives or rebuilds is written into ``H`` (checked before any engine opens).
* Shards go to ``D/n<N>`` (``write_shards`` of the current snapshot, each count in its own process: the split of
  48M postings at 1M peaks at a few GB), written once and kept: a second run reuses them.
* One process then measures, in this order and freeing each engine before the next: the single snapshot
  (:meth:`Engine.open`: memory-mapped), then per shard count the coordinator (:meth:`ShardedEngine.load_current`,
  catalog only) over in-process shards and over one Ray actor per shard. Queries: ``benchmarks/_synth.queries``
  (dev queries, then shortened real titles), hybrid, limit 10, the real MiniLM encoder (torch, as the vectors);
  every query runs once untimed (its vector is then cached) and once timed, as ``benchmarks/ray.py latency``.
  Resident memory: the measuring process (coordinator) and the sum over the shard actors' processes. Answers:
  each way's top 10 (doc ids) against the single snapshot's (above ``EXACT_MAX_ROWS`` rows per shard each shard's
  IVF index is its own approximation, so equality is not guaranteed there: ``docs/benchmarks.md``, "Ray").
"""

from __future__ import annotations

import gc
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any


def _rss_mb(pid: int | str = "self") -> dict[str, float]:
    out: dict[str, float] = {}
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return out
    for line in lines:
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile", "RssShmem"):
            out[key] = round(int(value.split()[0]) / 1024, 1)
    return out


def _actor_rss_mb() -> dict[str, Any]:
    """Resident MB summed over the processes running shard actors (Ray names them ``ray::ShardActor``)."""
    total: dict[str, float] = {}
    count = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if b"ShardActor" in cmd:
            count += 1
            for k, v in _rss_mb(proc.name).items():
                total[k] = round(total.get(k, 0.0) + v, 1)
    return {"processes": count, **total}


def _answers(engine: Any, texts: list[str]) -> list[list[str]]:
    from search.schema import SearchRequest

    responses = [engine.search(SearchRequest(query=t, limit=10)) for t in texts]
    if any(r.partial for r in responses):  # a shard did not answer: the figures would not be the whole index's
        raise SystemExit(f"{sum(r.partial for r in responses)} answers were partial (a shard was missing)")
    return [[r.doc_id for r in resp.results] for resp in responses]


def _agreement(got: list[list[str]], truth: list[list[str]]) -> dict[str, Any]:
    """Identical top-10 lists, and mean overlap@10 with the single snapshot's non-empty answers."""
    same = sum(g == t for g, t in zip(got, truth, strict=True))
    overlap = [len(set(g) & set(t)) / len(set(t)) for g, t in zip(got, truth, strict=True) if t]
    return {"identical_top10": same, "overlap_at_10": round(sum(overlap) / max(len(overlap), 1), 4),
            "empty_single_answers": sum(not t for t in truth)}


def workspace_over(source: Path, out: Path) -> Path:
    """``out/home``: a workspace reading ``source``'s current snapshot through a link, columns copied."""
    from indexer.build.snapshot import DERIVED_DIR

    version = (source / "indexes" / "CURRENT").read_text("utf-8").strip()
    home = out / "home"
    idx = home / "indexes"
    idx.mkdir(parents=True, exist_ok=True)
    link = idx / version
    if not link.is_symlink():
        link.symlink_to((source / "indexes" / version).resolve(), target_is_directory=True)
    cols = source / "indexes" / DERIVED_DIR / version / "columns"
    mine = idx / DERIVED_DIR / version / "columns"
    if cols.is_dir() and not mine.exists():
        shutil.copytree(cols, mine)
    (idx / "CURRENT").write_text(f"{version}\n", "utf-8")
    return home


def _guard(snapshot: Any, home: Path) -> None:
    """Refuse to go on when what the engine would derive from ``snapshot`` lands outside ``home``."""
    from search.filter.columns import columns_dir

    if not str(columns_dir(snapshot)).startswith(str(home)):
        raise SystemExit(f"columns of {snapshot.path} would be written at {columns_dir(snapshot)}, outside {home}")


def write_child(home: Path, n: int, folder: Path) -> dict[str, Any]:
    """Write ``n`` shards of ``home``'s current snapshot under ``folder`` (one process per count)."""
    from indexer.build.shards import read_map, write_shards
    from indexer.build.snapshot import load_current
    from indexer.workspace import Workspace

    snap = load_current(Workspace.resolve(home, create=False))
    _guard(snap, home)
    if read_map(folder, snap.version) is not None:
        return {"shards": n, "written": False}
    rep = write_shards(snap, n, folder)
    from benchmarks.scale_common import peak_rss_mb

    return {"shards": n, "written": True, "seconds": rep.seconds, "products": rep.products,
            "peak_rss_mb": peak_rss_mb()}


def _disk_mb(folder: Path) -> float:
    return round(sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 2**20, 1)


def _write_shards(home: Path, out: Path, shards: list[int], script: Path) -> dict[str, Any]:
    done: dict[str, Any] = {}
    for n in shards:
        cmd = [sys.executable, str(script), "latency-home-write", "--home", str(home), "--out", str(out / f"n{n}"),
               "--shards", str(n)]
        res = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=False)
        if res.returncode:
            raise SystemExit(f"writing {n} shards failed (exit {res.returncode})")
        done[f"shards_{n}"] = {**json.loads(res.stdout.strip().splitlines()[-1]),
                               "disk_mb": _disk_mb(out / f"n{n}" / "shards")}
        print(json.dumps(done[f"shards_{n}"]), flush=True)
    return done


def latency_home(source: Path, out: Path, shards: list[int], n_queries: int, use_ray: bool,
                 script: Path, timed: Any) -> dict[str, Any]:
    """The run described in the module docstring; ``timed(engine, texts)`` gives p50/p95 (``benchmarks/ray.py``)."""
    from benchmarks._synth import queries
    from indexer.build.embed import load_encoder
    from indexer.workspace import Workspace
    from search.engine import Engine, EngineSettings
    from search.serve.sharded import ShardedEngine, local_connector

    home = workspace_over(source, out)
    report: dict[str, Any] = {"source": str(source), "written": _write_shards(home, out, shards, script)}
    texts, _ = queries(n_queries, source="hashing")  # the texts only: the engine embeds them with the model
    enc = load_encoder(None, backend="torch")
    settings = EngineSettings(stale_ttl_s=None, kind_threshold=None)  # as benchmarks/scale_aisle
    ws = Workspace.resolve(home, create=False)
    report.update(queries=len(texts), base_rss=_rss_mb())
    t = time.perf_counter()
    single = Engine.open(ws, encoder=enc, settings=settings)
    _guard(single.snapshot, home)
    report["single"] = {"open_s": round(time.perf_counter() - t, 2), **timed(single, texts), "rss": _rss_mb()}
    truth = _answers(single, texts)
    report["products"] = len(single.snapshot.products)
    print(json.dumps(report["single"]), flush=True)
    del single
    gc.collect()
    coord = ShardedEngine.load_current(ws)
    ray_mod = None
    if use_ray:
        import ray as ray_mod

        ray_mod.init(num_cpus=2, include_dashboard=False, log_to_driver=False, object_store_memory=200 * 2**20)
    for n in shards:
        folder = out / f"n{n}"
        local = ShardedEngine(coord, connect=local_connector(folder), encoder=enc, settings=settings)
        row: dict[str, Any] = {"local": {**timed(local, texts), "rss": _rss_mb(),
                                         **_agreement(_answers(local, texts), truth)}}
        del local
        gc.collect()
        if ray_mod is not None:
            row["ray"] = _ray_row(coord, folder, enc, settings, texts, timed)
            row["ray"].update(_agreement(row["ray"].pop("answers"), truth))
        report[f"shards_{n}"] = row
        print(json.dumps({n: row}), flush=True)
    if ray_mod is not None:
        ray_mod.shutdown()
    return report


def _ray_row(coord: Any, folder: Path, enc: Any, settings: Any, texts: list[str], timed: Any) -> dict[str, Any]:
    from search.serve.ray_shards import RayShards
    from search.serve.sharded import ShardedEngine

    backend = RayShards(folder, timeout_s=120.0)
    t = time.perf_counter()
    eng = ShardedEngine(coord, connect=backend.connect, backend=backend, encoder=enc, settings=settings)
    row: dict[str, Any] = {"connect_s": round(time.perf_counter() - t, 2), **timed(eng, texts)}
    row.update(rss=_rss_mb(), actors=_actor_rss_mb(), answers=_answers(eng, texts))
    for k in list(backend.actors):
        backend.kill(k)
    del eng
    gc.collect()
    time.sleep(2)  # the killed actors' processes exit before the next count's start
    return row
