"""Latency, filtered recall and memory at 10k-1M products: aisle side by side with LanceDB and FAISS flat.

    python benchmarks/scale.py [--sizes 10000,100000,1000000] [--queries 200] [--json OUT.json]
                               [--markdown OUT.md] [--engines aisle,lancedb,faiss-flat-postfilter]
                               [--source model|hashing] [--cache /work/scale-cache] [--repeat 1] [--inline]

For each size: a synthetic catalog (:mod:`benchmarks._synth`: real products plus perturbed copies,
1,000 stores so that a merchant filter allows exactly 100 %, 10 %, 1 % or 0.1 % of the rows), a query
set (the dev queries plus shortened real titles) and exact ground truth by brute force over the allowed
rows of each selectivity (:func:`benchmarks.scale_common.exact_topk`). Then each engine runs in its own
subprocess (:func:`run_worker`), so that its peak RSS (``VmHWM``) is its own: first a build
process when the engine's cached index is missing (LanceDB table and indexes, aisle's BM25 and FAISS
index; its peak is ``build_peak_rss_mb``), then a serving process that loads what was built, answers
every query and reports its peak (``peak_rss_mb``) and its resident size before loading any data
(``base_rss_mb``, libraries and, for aisle, the query model). ``bytes_per_product`` is
``(peak_rss_mb - base_rss_mb) / size``. ``--inline`` runs everything in this process (fast, used by
the CI smoke test; memory figures are then not per engine and are left out).

Rows (``--json``): ``{"rows": [{"engine", "mode", "params", "size", "selectivity", "p50_ms", "p95_ms",
"p99_ms", "retrieval_p50_ms", "recall_at_10", "retrieval_recall_at_10", "build_s", "peak_rss_mb",
"build_peak_rss_mb", "base_rss_mb", "bytes_per_product"}], "machine": {...}, "command": "..."}``.
For aisle ``mode="dense"``, ``p50_ms`` is end to end through ``Engine.search`` and ``recall_at_10`` is
the end-to-end recall; ``retrieval_*`` is the filtered vector retrieval alone with the query vector
given. The peers are measured on retrieval alone (``p50_ms == retrieval_p50_ms``), same vectors, same
queries, same allowed rows. ``mode="hybrid"`` rows (aisle BM25 + dense end to end, LanceDB FTS +
vector) carry latency only: there is no vector ground truth for a fused ranking.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("RUST_LOG", "error")  # before lancedb loads: it logs a deprecation warning per query
os.environ.setdefault("LANCE_LOG", "error")
REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks._synth import GROUPS, cached_arrays, data_dir, queries  # noqa: E402
from benchmarks.scale_common import (  # noqa: E402
    DEFAULT_CACHE,
    SELECTIVITIES,
    K,
    Spec,
    allowed_mask,
    current_rss_mb,
    exact_topk,
    mean_recall,
    peak_rss_mb,
)

ENGINES = ("aisle", "lancedb", "faiss-flat-postfilter")


# --- worker (one engine, one size, one process) ---------------------------------------------------


def run_worker(spec: Spec, phase: str = "serve") -> dict[str, Any]:
    """Build (``phase="build"``) or build-from-cache and measure (``"serve"``) one engine at one size."""
    texts, qvecs = queries(spec.queries, source=spec.source, cache=spec.cache_dir)
    out: dict[str, Any] = {"engine": spec.engine, "size": spec.size, "phase": phase}
    if spec.engine == "aisle":
        from benchmarks.scale_aisle import build_engine, measure
        from indexer.build.embed import load_encoder

        load_encoder(cached_arrays(spec.size, source=spec.source, seed=spec.seed, cache=spec.cache_dir).model
                     ).encode(["warm up"])  # the query model is a fixed cost, not per product
        out["base_rss_mb"] = current_rss_mb()
        engine, enc, vectors, detail = build_engine(spec)
        out["build_s"], out["build_detail"] = detail["build_s"], detail
        if phase == "serve":
            out["runs"], out["peak_rss_mb"] = measure(spec, engine, enc, vectors, texts, qvecs)
            return out
    elif spec.engine == "lancedb":
        from benchmarks.scale_peers import lancedb_build, lancedb_serve

        out["base_rss_mb"] = current_rss_mb()
        if phase == "build":
            arrays = cached_arrays(spec.size, source=spec.source, seed=spec.seed, cache=spec.cache_dir)
            out.update(lancedb_build(spec, arrays.vectors, arrays.group))
        else:
            res = lancedb_serve(spec, qvecs, texts)
            out.update(res)
    elif spec.engine == "faiss-flat-postfilter":
        from benchmarks.scale_peers import faiss_flat

        out["base_rss_mb"] = current_rss_mb()
        arrays = cached_arrays(spec.size, source=spec.source, seed=spec.seed, cache=spec.cache_dir)
        group = np.asarray(arrays.group)
        del arrays
        path = data_dir(spec.cache_dir, spec.size, spec.source, spec.seed) / "vectors.npy"
        out.update(faiss_flat(spec, path, group, qvecs))
    else:
        raise ValueError(f"unknown engine {spec.engine!r} (one of {', '.join(ENGINES)})")
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def _needs_build(spec: Spec) -> bool:
    """Whether the engine's cached index is missing (then a separate build process runs first)."""
    if spec.engine == "lancedb":
        from benchmarks.scale_peers import lancedb_built

        return not lancedb_built(spec)
    if spec.engine == "aisle":
        from benchmarks.scale_aisle import dense_cache_name, lexical_cache_name
        from indexer.build.dense import EXACT_MAX_ROWS

        folder = spec.cache_dir / f"aisle-n{spec.size}-{spec.source}-s{spec.seed}"
        exact_max = spec.exact_max_rows if spec.exact_max_rows is not None else EXACT_MAX_ROWS
        return not ((folder / f"{lexical_cache_name()}.json").exists()
                    and (folder / f"{dense_cache_name(exact_max)}.json").exists())
    return False


def _subprocess(spec: Spec, phase: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.json"
        cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", spec.to_json(), "--phase", phase,
               "--out", str(out)]
        subprocess.run(cmd, check=True, env={**os.environ, "TOKENIZERS_PARALLELISM": "false"})
        return dict(json.loads(out.read_text()))


# --- orchestration ----------------------------------------------------------------------------------


def _rows_for(res: dict[str, Any], build: dict[str, Any] | None, vectors: np.ndarray, qvecs: np.ndarray,
              truth: dict[float, np.ndarray], inline: bool) -> list[dict[str, Any]]:
    size = res["size"]
    mem: dict[str, Any] = {"peak_rss_mb": None, "build_peak_rss_mb": None, "base_rss_mb": None,
                           "bytes_per_product": None}
    if not inline:
        mem["peak_rss_mb"] = res.get("peak_rss_mb")
        mem["base_rss_mb"] = res.get("base_rss_mb")
        mem["build_peak_rss_mb"] = build.get("peak_rss_mb") if build else None
        if mem["peak_rss_mb"] is not None and mem["base_rss_mb"] is not None:
            mem["bytes_per_product"] = round((mem["peak_rss_mb"] - mem["base_rss_mb"]) * 2**20 / size)
    build_s = res.get("build_s")
    rows = []
    for run in res["runs"]:
        sel = run["selectivity"]
        base = {"engine": res["engine"], "size": size, "selectivity": sel, "build_s": run.get("build_s", build_s),
                **mem}
        retr = run.get("retrieval", {})
        r_recall = None
        if "ids" in retr:
            r_recall = mean_recall(vectors, qvecs, np.asarray(retr["ids"]), truth[sel])
        if res["engine"] == "aisle":
            d = run["dense"]
            rows.append({**base, "mode": "dense", "params": res.get("build_detail", {}).get("dense"),
                         "build_detail": {k: v for k, v in res.get("build_detail", {}).items() if k != "dense"},
                         "p50_ms": d["p50_ms"], "p95_ms": d["p95_ms"], "p99_ms": d["p99_ms"],
                         "retrieval_p50_ms": retr.get("p50_ms"), "recall_at_10": d["recall_at_10"],
                         "retrieval_recall_at_10": r_recall, "browsed_queries": d.get("browsed"),
                         "engine_recall_at_10": d.get("engine_recall_at_10")})
            if "hybrid" in run:
                h = run["hybrid"]
                rows.append({**base, "mode": "hybrid", "params": None, "p50_ms": h["p50_ms"], "p95_ms": h["p95_ms"],
                             "p99_ms": h["p99_ms"], "retrieval_p50_ms": None, "recall_at_10": None,
                             "retrieval_recall_at_10": None})
        else:
            mode = run.get("mode", "vector")
            rows.append({**base, "mode": mode, "params": run.get("params"), "p50_ms": retr.get("p50_ms"),
                         "p95_ms": retr.get("p95_ms"), "p99_ms": retr.get("p99_ms"),
                         "retrieval_p50_ms": retr.get("p50_ms"), "recall_at_10": r_recall,
                         "retrieval_recall_at_10": r_recall})
    return rows


def run_benchmark(sizes: list[int], *, engines: tuple[str, ...] = ENGINES, n_queries: int = 200,
                  source: str = "model", seed: int = 7, cache: Path = DEFAULT_CACHE, repeat: int = 1,
                  inline: bool = False, exact_max_rows: int | None = None, hybrid: bool = True,
                  selectivities: tuple[float, ...] = SELECTIVITIES, lancedb_hybrid_max: int = 100_000,
                  log: Any = print) -> dict[str, Any]:
    """Measure every engine at every size (see the module docstring); returns ``{"rows": [...], ...}``."""
    if "lancedb" in engines and not _has_lancedb():
        log("lancedb is not importable: its rows are skipped (pip install 'aisle[bench]')")
        engines = tuple(e for e in engines if e != "lancedb")
    rows: list[dict[str, Any]] = []
    texts, qvecs = queries(n_queries, source=source, cache=cache)
    for size in sizes:
        t = time.perf_counter()
        arrays = cached_arrays(size, source=source, seed=seed, cache=cache)
        truth = {sel: exact_topk(arrays.vectors, qvecs, allowed_mask(arrays.group, sel, GROUPS), K)[1]
                 for sel in selectivities}
        log(f"size {size}: data and exact truth ready in {time.perf_counter() - t:.1f} s")
        for engine in engines:
            spec = Spec(engine=engine, size=size, queries=n_queries, source=source, seed=seed, cache=str(cache),
                        selectivities=list(selectivities), repeat=repeat, exact_max_rows=exact_max_rows,
                        hybrid=hybrid, lancedb_hybrid_max=lancedb_hybrid_max)
            t = time.perf_counter()
            build = None
            if inline:
                if engine == "lancedb":
                    run_worker(spec, "build")
                res = run_worker(spec, "serve")
            else:
                if _needs_build(spec):
                    build = _subprocess(spec, "build")
                res = _subprocess(spec, "serve")
            new = _rows_for(res, build, arrays.vectors, qvecs, truth, inline)
            rows += new
            log(f"size {size} {engine}: {len(new)} rows in {time.perf_counter() - t:.1f} s")
            for r in new:
                log("   " + _line(r))
    return {"rows": rows, "machine": machine(), "queries": n_queries, "source": source, "k": K}


def _has_lancedb() -> bool:
    try:
        import lancedb  # noqa: F401
    except ImportError:
        return False
    return True


def machine() -> dict[str, Any]:
    """nproc, memory, CPU model, load average and library versions of this run."""
    info: dict[str, Any] = {"nproc": os.cpu_count(), "python": platform.python_version()}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["ram_gb"] = round(int(line.split()[1]) / 2**20, 1)
        info["loadavg"] = Path("/proc/loadavg").read_text().split()[:3]
    except OSError:
        pass
    import faiss

    info["faiss"] = faiss.__version__
    if _has_lancedb():
        import lancedb

        info["lancedb"] = lancedb.__version__
    return info


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.3g}" if abs(v) < 100 else f"{v:.0f}"
    return str(v)


def _params(p: Any) -> str:
    if not isinstance(p, dict):
        return ""
    keep = ("type", "M", "efSearch", "nprobe", "index", "nprobes", "ef", "refine_factor", "oversample", "errors")
    return " ".join(f"{k}={p[k]}" for k in keep if p.get(k) is not None)


def _line(r: dict[str, Any]) -> str:
    return (f"{r['engine']:<22} {r['mode']:<7} sel={r['selectivity']:<6} p50={_fmt(r['p50_ms'])} ms "
            f"p95={_fmt(r['p95_ms'])} retr_p50={_fmt(r['retrieval_p50_ms'])} recall={_fmt(r['recall_at_10'])} "
            f"{_params(r.get('params'))}")


def summary(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Per size and selectivity: aisle against the fastest LanceDB setting at equal or better recall
    (the best-recall setting, flagged, when none reaches aisle's) and against FAISS flat + post-filter.
    Ratios compare retrieval alone with retrieval alone (peer p50 / aisle retrieval p50)."""
    out = []
    rows = report["rows"]
    for size, sel in sorted({(r["size"], r["selectivity"]) for r in rows}, key=lambda x: (x[0], -x[1])):
        at = [r for r in rows if r["size"] == size and r["selectivity"] == sel]
        aisle = next((r for r in at if r["engine"] == "aisle" and r["mode"] == "dense"), None)
        if aisle is None:
            continue
        hybrid = next((r for r in at if r["engine"] == "aisle" and r["mode"] == "hybrid"), None)
        a_recall = aisle.get("retrieval_recall_at_10") or 0.0
        lance = [r for r in at if r["engine"] == "lancedb" and r["mode"] == "vector" and r["p50_ms"] is not None]
        good = [r for r in lance if (r["recall_at_10"] or 0.0) >= a_recall]
        pick = min(good, key=lambda r: r["p50_ms"]) if good else (
            max(lance, key=lambda r: (r["recall_at_10"] or 0.0)) if lance else None)
        flat = next((r for r in at if r["engine"] == "faiss-flat-postfilter"), None)
        a_ret = aisle.get("retrieval_p50_ms") or None

        def ratio(peer: dict[str, Any] | None, base: float | None = a_ret) -> float | None:
            if peer is None or not base or peer.get("p50_ms") is None:
                return None
            return round(peer["p50_ms"] / base, 1)

        out.append({
            "size": size, "selectivity": sel,
            "aisle_e2e_p50_ms": aisle["p50_ms"], "aisle_e2e_recall_at_10": aisle["recall_at_10"],
            "aisle_hybrid_e2e_p50_ms": hybrid["p50_ms"] if hybrid else None,
            "aisle_retrieval_p50_ms": a_ret, "aisle_retrieval_recall_at_10": a_recall,
            "lancedb_p50_ms": pick["p50_ms"] if pick else None,
            "lancedb_recall_at_10": pick["recall_at_10"] if pick else None,
            "lancedb_params": _params(pick.get("params")) if pick else None,
            "lancedb_reaches_aisle_recall": bool(good) if lance else None,
            "lancedb_over_aisle": ratio(pick),
            "faiss_flat_p50_ms": flat["p50_ms"] if flat else None,
            "faiss_flat_over_aisle": ratio(flat),
        })
    return out


def markdown_summary(report: dict[str, Any]) -> str:
    """:func:`summary` as a markdown table."""
    head = ("| size | selectivity | aisle e2e p50 ms (dense / hybrid) | aisle e2e recall@10 | aisle retrieval p50 ms "
            "(recall@10) | LanceDB p50 ms (recall@10, setting) | LanceDB / aisle | FAISS flat+post p50 ms | "
            "FAISS / aisle |")
    lines = [head, "|" + "---|" * 9]
    for r in summary(report):
        lance = "-"
        if r["lancedb_p50_ms"] is not None:
            flag = "" if r["lancedb_reaches_aisle_recall"] else ", below aisle's recall"
            lance = f"{_fmt(r['lancedb_p50_ms'])} ({_fmt(r['lancedb_recall_at_10'])}, {r['lancedb_params']}{flag})"
        lines.append("| " + " | ".join([
            f"{r['size']:,}", f"{r['selectivity'] * 100:g} %",
            f"{_fmt(r['aisle_e2e_p50_ms'])} / {_fmt(r['aisle_hybrid_e2e_p50_ms'])}", _fmt(r["aisle_e2e_recall_at_10"]),
            f"{_fmt(r['aisle_retrieval_p50_ms'])} ({_fmt(r['aisle_retrieval_recall_at_10'])})", lance,
            _fmt(r["lancedb_over_aisle"]), _fmt(r["faiss_flat_p50_ms"]), _fmt(r["faiss_flat_over_aisle"])]) + " |")
    return "\n".join(lines) + "\n"


def markdown(report: dict[str, Any]) -> str:
    """The rows as a markdown table (one line per engine, mode, setting, size and selectivity)."""
    head = ("| size | selectivity | engine | mode | params | p50 ms | p95 ms | p99 ms | retrieval p50 ms | "
            "recall@10 | retrieval recall@10 | build s | peak RSS MB | bytes/product |")
    lines = [head, "|" + "---|" * 14]
    for r in sorted(report["rows"], key=lambda r: (r["size"], -r["selectivity"], ENGINES.index(r["engine"]))):
        lines.append("| " + " | ".join([
            f"{r['size']:,}", f"{r['selectivity'] * 100:g} %", r["engine"], r["mode"], _params(r.get("params")),
            _fmt(r["p50_ms"]), _fmt(r["p95_ms"]), _fmt(r["p99_ms"]), _fmt(r["retrieval_p50_ms"]),
            _fmt(r["recall_at_10"]), _fmt(r.get("retrieval_recall_at_10")), _fmt(r["build_s"]),
            _fmt(r["peak_rss_mb"]), _fmt(r["bytes_per_product"])]) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--engines", default=",".join(ENGINES))
    ap.add_argument("--source", default="model", choices=("model", "hashing"))
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="built data and indexes (outside the repo)")
    ap.add_argument("--repeat", type=int, default=1, help="timed passes over the queries (after one warm-up)")
    ap.add_argument("--selectivities", default=",".join(str(s) for s in SELECTIVITIES))
    ap.add_argument("--exact-max-rows", type=int, default=None, help="aisle: dense index threshold override")
    ap.add_argument("--no-hybrid", action="store_true", help="skip the hybrid-mode timings")
    ap.add_argument("--inline", action="store_true", help="one process (no per-engine memory figures)")
    ap.add_argument("--lancedb-hybrid-max", type=int, default=100_000,
                    help="largest size at which LanceDB gets a text column (FTS, hybrid timings)")
    ap.add_argument("--json", type=Path, default=None, help="write the report as JSON")
    ap.add_argument("--markdown", type=Path, default=None, help="write the table as markdown")
    ap.add_argument("--render", type=Path, default=None, help="print the tables of a saved --json report and exit")
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--phase", default="serve", help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        res = run_worker(Spec.from_json(args.worker), args.phase)
        args.out.write_text(json.dumps(res))
        return
    if args.render:
        saved = json.loads(args.render.read_text())
        print(markdown_summary(saved) + "\n" + markdown(saved))
        return
    report = run_benchmark([int(s) for s in args.sizes.split(",")], engines=tuple(args.engines.split(",")),
                           n_queries=args.queries, source=args.source, seed=args.seed, cache=args.cache,
                           repeat=args.repeat, inline=args.inline, exact_max_rows=args.exact_max_rows,
                           hybrid=not args.no_hybrid, lancedb_hybrid_max=args.lancedb_hybrid_max,
                           selectivities=tuple(float(s) for s in args.selectivities.split(",")))
    report["command"] = "python benchmarks/scale.py " + " ".join(argv if argv is not None else sys.argv[1:])
    report["summary"] = summary(report)
    text = markdown_summary(report) + "\n" + markdown(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    if args.markdown:
        args.markdown.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
