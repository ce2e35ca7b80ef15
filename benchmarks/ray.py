"""Ray benchmarks: sharded answers equal the single snapshot's; scatter-gather latency; embedding throughput.

    python benchmarks/ray.py equal   [--home /work/bench-home] [--shards 2 4 8]
    python benchmarks/ray.py latency [--size 100000] [--shards 2 4 8] [--queries 100] [--no-ray]
    python benchmarks/ray.py embed   [--products 2000] [--workers 1 2]
    python benchmarks/ray.py coordinator --home H [--shards 2] [--queries 50]
    python benchmarks/ray.py exact --home H [--queries 200]
    python benchmarks/ray.py reshard --home H [--shards 2 4]
    python benchmarks/ray.py latency-home --home H --out D [--shards 2 4 8] [--queries 60] [--no-ray]
    python benchmarks/ray.py crawl-sink [--catalog ../shared/catalogs] [--workers 1 2]   (ray_sink.py)

* ``equal``: the shared catalogs' snapshot (``benchmarks/_shared_index.py``) and its shards; every dev and
  dev2 query in every mode (bm25, dense, hybrid), strict and with near matches: the top 10 (doc id, variant,
  exact flag) of the sharded engine (in-process shards) against the single snapshot. Prints the count of
  differing answers (0 expected) and the largest score difference.
* ``latency``: the synthetic scale-up of ``benchmarks/scale_aisle.py`` at ``--size`` products; p50/p95 of
  hybrid searches on the single snapshot, then with 2/4/8 shards in-process (the cost of the scatter-gather
  itself) and as Ray actors (plus the Ray calls), all in the same run. The machine is shared: compare
  figures of one run only.
* ``embed``: products/s of the local embedding against the Ray Data pipeline with 1 and 2 workers, in the
  same run, on the shared catalogs' products (see :mod:`indexer.build.ray_embed`).
* ``coordinator``: resident memory of the process serving ``aisle serve --ray`` (the coordinator; the shards are
  Ray actors, other processes) over the format-2 snapshot in ``H`` (its shards written first when missing),
  each way in its own process, same run: ``single`` (a plain :class:`Engine`, for scale), ``full`` (the
  coordinator opening the whole snapshot, as before: vectors, FAISS, BM25 opened, then replaced by proxies) and
  ``catalog`` (:meth:`ShardedEngine.load_current`: catalog rows, merchants, vocabulary only). ``VmRSS`` with its
  anonymous and file-backed parts after opening and after ``--queries`` hybrid searches (product titles as
  queries, their own vectors as query vectors: no model is loaded; MiniLM adds the same to every way).
* ``exact``: dense top 10 over the snapshot in ``H`` (above ``EXACT_MAX_ROWS``, so the single snapshot's index
  is IVF) against brute force, for the single snapshot and for shards with flat indexes (at most
  ``EXACT_MAX_ROWS`` rows each) or forced IVF ones (``exact_max_rows`` lowered): lists identical to the single
  snapshot's and recall@10 against brute force, without a filter, within one merchant and within 10 % of the
  merchants. Query vectors: products' vectors plus noise (seeded).
* ``latency-home``: ``latency`` over the on-disk snapshot in ``H`` (read only), shards in ``D``: ``ray_latency.py``.
* ``reshard``: :func:`write_shards` of the snapshot in ``H`` into a fresh folder (every shard written), then again
  (nothing changed: the fingerprint pass only, no shard rewritten): seconds of each, per shard count.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
# This file is named ray.py: take its folder off the path so that `import ray` (here and in Ray's workers,
# which inherit the driver's path) finds the library, not this script.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from indexer.build.shards import write_shards  # noqa: E402
from search.engine import Engine, EngineSettings  # noqa: E402
from search.schema import SearchRequest  # noqa: E402
from search.serve.sharded import ShardedEngine, local_connector  # noqa: E402

SHARED = REPO.parent / "shared"


def _queries() -> list[str]:
    out: list[str] = []
    for split in ("dev", "dev2"):
        f = SHARED / "eval" / split / "queries.jsonl"
        if f.exists():
            out += [json.loads(line)["query"] for line in f.read_text("utf-8").splitlines() if line.strip()]
    return out


def local_sharded(snapshot: Any, n: int, home: Path, **kw: Any) -> ShardedEngine:
    """A :class:`ShardedEngine` over ``n`` in-process shards of ``snapshot`` written under ``home``/shards."""
    write_shards(snapshot, n, home)
    return ShardedEngine(snapshot, connect=local_connector(home), **kw)


def _top(engine: Engine, req: SearchRequest) -> tuple[list[tuple[str, str, bool]], list[float]]:
    resp = engine.search(req)
    return [(r.doc_id, r.variant.id, r.match.exact) for r in resp.results], [r.score for r in resp.results]


def equal(home: Path, shards: list[int]) -> dict[str, Any]:
    """Compare every dev/dev2 query's top 10 in every mode, single snapshot against ``shards`` shard counts."""
    from benchmarks._shared_index import shared_snapshot
    from search.retrieval.encoding import load_query_encoder

    snap = shared_snapshot(home)
    settings = EngineSettings(stale_ttl_s=None)
    enc = load_query_encoder(snap.model)
    single = Engine(snap, encoder=enc, settings=settings)
    queries = _queries()
    reqs = [SearchRequest(query=q, mode=m, limit=10, include_near=near)  # type: ignore[arg-type]
            for q in queries for m in ("bm25", "dense", "hybrid") for near in (False, True)]
    truth = [_top(single, r) for r in reqs]
    out: dict[str, Any] = {"products": len(snap.products), "queries": len(queries), "requests": len(reqs)}
    with tempfile.TemporaryDirectory(prefix="aisle-shards-") as tmp:
        for n in shards:
            eng = local_sharded(snap, n, Path(tmp) / f"n{n}", encoder=enc, settings=settings)
            diff, worst = 0, 0.0
            for req, (ids, scores) in zip(reqs, truth, strict=True):
                got, got_scores = _top(eng, req)
                diff += got != ids
                if got == ids and scores:
                    worst = max(worst, float(np.max(np.abs(np.asarray(got_scores) - np.asarray(scores)))))
            out[f"shards_{n}"] = {"differing_top10": diff, "max_score_diff": worst}
            print(json.dumps({n: out[f"shards_{n}"]}), flush=True)
    return out


def _timed(engine: Engine, texts: list[str]) -> dict[str, float]:
    for t in texts:  # warm-up: every query's vector is then in the engine's cache, so the timings are the search
        engine.search(SearchRequest(query=t, limit=10))  # itself (retrieval, fusion, scatter-gather), not the encoder
    ms = []
    for t in texts:
        t0 = time.perf_counter()
        engine.search(SearchRequest(query=t, limit=10))
        ms.append((time.perf_counter() - t0) * 1000.0)
    return {"p50_ms": round(float(np.percentile(ms, 50)), 2), "p95_ms": round(float(np.percentile(ms, 95)), 2)}


def latency(size: int, shards: list[int], n_queries: int, use_ray: bool) -> dict[str, Any]:
    """p50/p95 of hybrid searches: single snapshot, in-process shards, Ray actor shards (same run)."""
    from benchmarks._synth import queries as synth_queries
    from benchmarks.scale_aisle import build_engine
    from benchmarks.scale_common import Spec

    cache = Path(os.environ.get("AISLE_RAY_BENCH_CACHE", "/tmp/aisle-ray-bench"))
    spec = Spec(engine="aisle", size=size, cache=str(cache))
    single, enc, _, _ = build_engine(spec)
    texts, _ = synth_queries(n_queries, cache=cache)
    settings = single.settings
    out: dict[str, Any] = {"size": size, "queries": len(texts), "single": _timed(single, texts)}
    print(json.dumps(out), flush=True)
    snap = single.snapshot
    with tempfile.TemporaryDirectory(prefix="aisle-shards-") as tmp:
        ray_mod = None
        if use_ray:
            import ray as ray_mod

            ray_mod.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        for n in shards:
            local = local_sharded(snap, n, Path(tmp) / f"n{n}", encoder=enc, settings=settings)
            row: dict[str, Any] = {"local": _timed(local, texts)}
            del local
            if ray_mod is not None:
                from search.serve.ray_shards import RayShards

                backend = RayShards(Path(tmp) / f"n{n}", timeout_s=60.0)
                eng = ShardedEngine(snap, connect=backend.connect, backend=backend, encoder=enc, settings=settings)
                row["ray"] = _timed(eng, texts)
                for k in list(backend.actors):
                    backend.kill(k)
            out[f"shards_{n}"] = row
            print(json.dumps({n: row}), flush=True)
        if ray_mod is not None:
            ray_mod.shutdown()
    return out


def _rss() -> dict[str, float]:
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile", "RssShmem"):
            fields[key] = round(int(value.split()[0]) / 1024, 1)
    return fields


class _Lookup:
    """Query vectors by text (the products' own vectors), under the snapshot's model name."""

    def __init__(self, name: str, table: dict[str, np.ndarray]) -> None:
        self.name, self.table = name, table
        self.dim = len(next(iter(table.values())))

    def encode(self, texts: Any, batch_size: int = 64) -> np.ndarray:
        from indexer.build.embed import HashingEncoder

        other = HashingEncoder(self.dim)  # a text the engine derived (ranking text without the constraint words)
        return np.stack([self.table[t] if t in self.table else other.encode([t])[0] for t in texts]).astype(np.float32)


def coordinator_child(home: Path, way: str, n_queries: int) -> dict[str, Any]:
    """One way of opening the coordinator (see the module docstring); RSS after open and after the queries."""
    import hashlib

    import ray as ray_mod

    from indexer.build.snapshot import load_current
    from indexer.workspace import Workspace
    from search.serve.ray_shards import RayShards

    ws = Workspace.resolve(home)
    peek = load_current(ws)
    rows = np.linspace(0, len(peek.products) - 1, n_queries).astype(int).tolist()
    table = {peek.products[r].title: np.asarray(peek.vectors[r]) for r in rows}
    model = peek.model
    del peek
    import gc

    gc.collect()
    settings = EngineSettings(stale_ttl_s=None)
    if way != "single":
        ray_mod.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    out: dict[str, Any] = {"way": way, "base": _rss()}
    t = time.perf_counter()
    if way == "single":
        eng: Engine = Engine.open(ws, encoder=_Lookup(model, table), settings=settings)  # type: ignore[arg-type]
    else:
        backend = RayShards(home, timeout_s=120.0)
        snap = load_current(ws) if way == "full" else ShardedEngine.load_current(ws)
        eng = ShardedEngine(snap, connect=backend.connect, backend=backend, encoder=_Lookup(model, table),
                            settings=settings, workspace=ws)
        del snap
    gc.collect()
    out["open_s"] = round(time.perf_counter() - t, 2)
    out["open"] = _rss()
    digest = hashlib.sha256()
    ms = []
    for q in table:
        t0 = time.perf_counter()
        resp = eng.search(SearchRequest(query=q, limit=10))
        ms.append((time.perf_counter() - t0) * 1000)
        digest.update(repr([(r.doc_id, r.variant.id) for r in resp.results]).encode())
        out["partial_answers"] = out.get("partial_answers", 0) + int(bool(resp.partial))  # a shard was missing
    out["queries"] = _rss()
    out["p50_ms"] = round(float(np.percentile(ms, 50)), 1)
    out["answers_sha"] = digest.hexdigest()[:12]
    if way != "single":
        ray_mod.shutdown()
    return out


def coordinator(home: Path, n: int, n_queries: int) -> dict[str, Any]:
    """The three ways, each in a child process (module docstring); shards written first when missing."""
    import subprocess

    from indexer.build.shards import read_map, write_shards
    from indexer.build.snapshot import load_current
    from indexer.workspace import Workspace

    ws = Workspace.resolve(home)
    snap = load_current(ws)
    smap = read_map(home, snap.version)
    if smap is None or smap.n != n:
        t = time.perf_counter()
        rep = write_shards(snap, n, home)
        print(json.dumps({"shards_written_s": round(time.perf_counter() - t, 1), "products": rep.products}), flush=True)
    out: dict[str, Any] = {"products": len(snap.products), "shards": n, "queries": n_queries}
    del snap
    for way in ("single", "full", "catalog"):
        cmd = [sys.executable, str(Path(__file__).resolve()), "coordinator-child", "--home", str(home), "--way", way,
               "--queries", str(n_queries)]
        res = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if res.returncode:
            raise SystemExit(f"{way} failed:\n{res.stderr[-3000:]}")
        out[way] = json.loads(res.stdout.strip().splitlines()[-1])
        print(json.dumps(out[way]), flush=True)
    return out


def exact(home: Path, n_queries: int) -> dict[str, Any]:
    """Dense exactness of sharded against single and brute force (module docstring)."""
    from indexer.build.shards import write_shards
    from indexer.build.snapshot import load_current
    from indexer.workspace import Workspace
    from search.retrieval.filtered import dense_topk
    from search.retrieval.shards import ShardedDense

    snap = load_current(Workspace.resolve(home))
    vectors = np.asarray(snap.vectors, dtype=np.float32)
    merchant = np.asarray([p.merchant_id for p in snap.products])
    rng = np.random.default_rng(7)
    picks = rng.choice(len(vectors), n_queries, replace=False)
    qs = vectors[picks] + rng.normal(0, 0.05, (n_queries, vectors.shape[1]))
    qs = (qs / np.linalg.norm(qs, axis=1, keepdims=True)).astype(np.float32)
    names = np.unique(merchant)
    filters: dict[str, Any] = {"none": None, "one_merchant": np.flatnonzero(merchant == names[0]),
                               "ten_percent": np.flatnonzero(np.isin(merchant, names[:: 10]))}

    def brute(q: np.ndarray, allowed: Any) -> list[int]:
        rows = np.arange(len(vectors)) if allowed is None else allowed
        sc = vectors[rows] @ q
        return rows[np.lexsort((rows, -sc))[:10]].tolist()

    truth = {f: [brute(q, a) for q in qs] for f, a in filters.items()}
    single = {f: [dense_topk(snap.dense, snap.vectors, q, 10, a, exact_threshold=20_000)[0].tolist() for q in qs]
              for f, a in filters.items()}
    out: dict[str, Any] = {"products": len(vectors), "queries": n_queries,
                           "single_index": snap.manifest["dense"]["type"],
                           "allowed_rows": {f: (len(a) if a is not None else len(vectors)) for f, a in filters.items()}}

    def tied(g: list[int], t: list[int], q: np.ndarray) -> float:  # a row as good as the 10th true one counts
        bar = float(vectors[t[-1]] @ q) - 1e-6
        return sum(float(vectors[r] @ q) >= bar for r in g) / len(t)

    def score(got: dict[str, list[list[int]]]) -> dict[str, Any]:
        return {f: {"recall_at_10": round(float(np.mean([len(set(g) & set(t)) / 10 for g, t in
                                                          zip(got[f], truth[f], strict=True)])), 4),
                    "recall_at_10_ties_counted": round(float(np.mean([tied(g, t, q) for g, t, q in
                                                                       zip(got[f], truth[f], qs, strict=True)])), 4),
                    "identical_to_single": sum(g == s for g, s in zip(got[f], single[f], strict=True))}
                for f in filters}

    out["single"] = score(single)
    with tempfile.TemporaryDirectory(prefix="aisle-exact-") as tmp:
        for n, limit in ((2, 50_000), (2, 10_000), (4, 10_000)):
            folder = Path(tmp) / f"n{n}-{limit}"
            write_shards(snap, n, folder, exact_max_rows=limit)
            dense = ShardedDense(local_connector(folder)(snap))
            got = {f: [dense.topk(q, 10, a, exact_threshold=20_000)[0].tolist() for q in qs]
                   for f, a in filters.items()}
            key = f"shards_{n}_{'flat' if limit >= len(vectors) // n else 'ivf'}"
            out[key] = score(got)
            print(json.dumps({key: out[key]}), flush=True)
    return out


def reshard(home: Path, shards: list[int]) -> dict[str, Any]:
    """Seconds to write every shard, then to find that none changed (module docstring)."""
    from indexer.build.shards import write_shards
    from indexer.build.snapshot import load_current
    from indexer.workspace import Workspace

    snap = load_current(Workspace.resolve(home))
    out: dict[str, Any] = {"products": len(snap.products)}
    with tempfile.TemporaryDirectory(prefix="aisle-reshard-") as tmp:
        for n in shards:
            first = write_shards(snap, n, Path(tmp) / f"n{n}")
            again = write_shards(snap, n, Path(tmp) / f"n{n}")
            out[f"shards_{n}"] = {"all_written_s": first.seconds, "rebuilt": first.rebuilt,
                                  "unchanged_s": again.seconds, "rebuilt_again": again.rebuilt}
            print(json.dumps({n: out[f"shards_{n}"]}), flush=True)
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="what", required=True)
    e = sub.add_parser("equal")
    e.add_argument("--home", type=Path, default=Path("/work/bench-home"))
    e.add_argument("--shards", type=int, nargs="+", default=[2, 4, 8])
    lat = sub.add_parser("latency")
    lat.add_argument("--size", type=int, default=100_000)
    lat.add_argument("--shards", type=int, nargs="+", default=[2, 4, 8])
    lat.add_argument("--queries", type=int, default=100)
    lat.add_argument("--no-ray", action="store_true")
    em = sub.add_parser("embed")
    em.add_argument("--products", type=int, default=2000)
    em.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    co = sub.add_parser("coordinator")
    co.add_argument("--home", type=Path, required=True)
    co.add_argument("--shards", type=int, default=2)
    co.add_argument("--queries", type=int, default=50)
    cc = sub.add_parser("coordinator-child")
    cc.add_argument("--home", type=Path, required=True)
    cc.add_argument("--way", choices=("single", "full", "catalog"), required=True)
    cc.add_argument("--queries", type=int, default=50)
    ex = sub.add_parser("exact")
    ex.add_argument("--home", type=Path, required=True), ex.add_argument("--queries", type=int, default=200)
    rs = sub.add_parser("reshard")
    rs.add_argument("--home", type=Path, required=True), rs.add_argument("--shards", type=int, nargs="+",
                                                                         default=[2, 4])
    cs = sub.add_parser("crawl-sink")
    cs.add_argument("--catalog", type=Path, default=SHARED / "catalogs"), cs.add_argument("--workers", type=int,
                                                                                          nargs="+", default=[1, 2])
    for lh in (sub.add_parser("latency-home"), sub.add_parser("latency-home-write")):
        lh.add_argument("--home", type=Path, required=True), lh.add_argument("--out", type=Path, required=True)
        lh.add_argument("--shards", type=int, nargs="+", default=[2, 4, 8])
        lh.add_argument("--queries", type=int, default=60), lh.add_argument("--no-ray", action="store_true")
    args = ap.parse_args(argv)
    if args.what in ("latency-home-write", "coordinator-child"):  # one line of JSON for the parent process
        from benchmarks.ray_latency import write_child

        one = write_child(args.home, args.shards[0], args.out) if args.what == "latency-home-write" else \
            coordinator_child(args.home, args.way, args.queries)
        print(json.dumps(one))
        return
    from benchmarks.ray_embed import embed_benchmark
    from benchmarks.ray_latency import latency_home
    from benchmarks.ray_sink import crawl_sink

    run = {"latency-home": lambda a: latency_home(a.home, a.out, a.shards, a.queries, not a.no_ray, Path(__file__),
                                                  _timed),
           "reshard": lambda a: reshard(a.home, a.shards), "exact": lambda a: exact(a.home, a.queries),
           "coordinator": lambda a: coordinator(a.home, a.shards, a.queries),
           "latency": lambda a: latency(a.size, a.shards, a.queries, not a.no_ray), "equal": lambda a: equal(a.home,
                                                                                                           a.shards),
           "crawl-sink": lambda a: crawl_sink(a.catalog, a.workers),
           "embed": lambda a: embed_benchmark(a.products, a.workers)}
    res = run[args.what](args)
    print(json.dumps(res, indent=1))

if __name__ == "__main__":
    main()
