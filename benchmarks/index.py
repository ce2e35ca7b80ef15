"""Benchmark of ``aisle index``: figures for docs/benchmarks.md, each against a baseline run in the same process.

1. Embedding throughput of the pipeline (cache look-ups, length-sorted chunks, progress) vs a plain
   ``SentenceTransformer.encode`` of the same texts with the same model object (ratio).
2. Incremental rebuild with 1% of the products changed vs a full rebuild (ratio; target <= 5%).
3. Snapshot size and peak memory (build and load, measured in child processes) per 10k products.
4. dense: flat vs HNSW on vectors derived from the real embeddings (latency, recall@10, build),
   the measurements behind ``indexer.build.dense.EXACT_MAX_ROWS`` and the HNSW parameters.

Usage::

    python benchmarks/index.py [--sample 2000] [--sections embedding,memory,dense] [--shared-home DIR] [--json F]

``--sample`` products are drawn (seed 0) from ../shared/catalogs, parsed directly (no HTTP).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from _shared_index import DEFAULT_CATALOGS, parse_shared_catalogs  # noqa: E402

from indexer.build.index import build_index  # noqa: E402
from indexer.build.text import product_text  # noqa: E402
from indexer.models import Merchant, Product  # noqa: E402
from indexer.workspace import Workspace  # noqa: E402


def _rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _peak_mb() -> float:
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across fork+exec.
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---------------------------------------------------------------- child processes (memory)


def _child(mode: str, home: str, data: str | None) -> None:
    """Run one measured step in a fresh process; print its memory figures as JSON."""
    from indexer.build.embed import load_encoder
    from indexer.build.snapshot import load_current

    base = _rss_mb()
    out: dict[str, Any] = {"mode": mode, "baseline_rss_mb": round(base, 1)}
    t = time.perf_counter()
    if mode == "build":  # from a warm cache: index structures only, the model is never loaded
        import torch  # noqa: F401  (imported by device resolution; not part of the index's memory)

        payload = json.loads(Path(data or "").read_text())
        products = [Product.from_dict(p) for p in payload["products"]]
        merchants = [Merchant.from_dict(m) for m in payload["merchants"]]
        base = _rss_mb()
        out["baseline_rss_mb"] = round(base, 1)
        report = build_index(products, merchants, Workspace.resolve(home), encoder=load_encoder(None, "cpu", lazy=True),
                             crawled_at={}, watermark=f"child-{time.time()}")
        out["embedded"] = report.embedded
        out["products"] = report.products
    elif mode == "load":
        snap = load_current(Workspace.resolve(home))
        out["products"] = len(snap)
        np.asarray(snap.vectors).sum()  # page the vectors in, as serving eventually does
    elif mode == "model":
        enc = load_encoder(None, "cpu")
        enc.encode(["warm up the model with a short sentence"] * 64)
    out["seconds"] = round(time.perf_counter() - t, 2)
    out["peak_rss_mb"] = round(_peak_mb(), 1)
    out["delta_mb"] = round(_peak_mb() - base, 1)
    print(json.dumps(out))


def _run_child(mode: str, home: Path, data: Path | None = None) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", mode, "--child-home", str(home)]
    if data is not None:
        cmd += ["--child-data", str(data)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- sections


def embedding_vs_plain(products: list[Product], merchants: list[Merchant], home: Path, encoder: Any,
                       batch_size: int) -> dict[str, Any]:
    texts = [product_text(p) for p in products]
    model = encoder.model  # the very SentenceTransformer object the pipeline uses
    model.encode(texts[:batch_size], batch_size=batch_size, show_progress_bar=False)  # warm-up

    def plain_run() -> float:
        t = time.perf_counter()
        model.encode(texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True,
                     show_progress_bar=False)
        return time.perf_counter() - t

    # Plain before and after the pipeline, averaged: the machine is shared, load drifts.
    before = plain_run()
    report = build_index(products, merchants, Workspace.resolve(home), encoder=encoder, crawled_at={},
                         watermark="bench-full", full=True, batch_size=batch_size)
    after = plain_run()
    plain = (before + after) / 2
    embed = report.seconds["embed"]
    return {
        "products": len(products), "batch_size": batch_size,
        "plain_encode_s": round(plain, 2), "plain_runs_s": [round(before, 2), round(after, 2)],
        "plain_products_per_s": round(len(texts) / plain, 1),
        "pipeline_embed_s": embed, "pipeline_products_per_s": round(len(texts) / embed, 1),
        "throughput_ratio_pipeline_over_plain": round(plain / embed, 3),
        "full_build_s": report.total_seconds, "full_build_stages": report.seconds,
    }


def incremental_vs_full(products: list[Product], merchants: list[Merchant], home: Path, encoder: Any,
                        full_seconds: float) -> dict[str, Any]:
    rng = random.Random(1)
    changed_rows = set(rng.sample(range(len(products)), max(1, len(products) // 100)))
    edited = [replace(p, title=f"{p.title} (2026 edition)") if i in changed_rows else p
              for i, p in enumerate(products)]
    report = build_index(edited, merchants, Workspace.resolve(home), encoder=encoder, crawled_at={},
                         watermark="bench-incremental")
    noop = build_index(edited, merchants, Workspace.resolve(home), encoder=encoder, crawled_at={},
                       watermark="bench-noop")
    return {
        "changed": len(changed_rows), "embedded": report.embedded, "reused": report.reused,
        "incremental_s": report.total_seconds, "incremental_stages": report.seconds,
        "incremental_over_full": round(report.total_seconds / full_seconds, 4),
        "rebuild_nothing_embedded_s": noop.total_seconds,
    }


def size_and_memory(home: Path, products: list[Product], merchants: list[Merchant]) -> dict[str, Any]:
    from indexer.build.snapshot import load_current

    snap = load_current(Workspace.resolve(home))
    n = len(snap)
    files = snap.manifest["files"]
    by_file: dict[str, int] = {}
    for rel, meta in files.items():
        key = "lexical/" if rel.startswith("lexical/") else rel
        by_file[key] = by_file.get(key, 0) + meta["bytes"]
    total = sum(by_file.values())
    # A build from a warm cache in a child process: memory of the indexing itself.
    child_home = Path(tempfile.mkdtemp(prefix="aisle-bench-child-"))
    shutil.copytree(home / "cache", child_home / "cache")
    data = child_home / "input.json"
    data.write_text(json.dumps({"products": [p.to_dict() for p in products],
                                "merchants": [m.to_dict() for m in merchants]}))
    build = _run_child("build", child_home, data)
    load = _run_child("load", home)
    model = _run_child("model", home)
    shutil.rmtree(child_home, ignore_errors=True)
    per10k = 10_000 / n
    return {
        "products": n, "snapshot_mb": round(total / 2**20, 2), "snapshot_mb_per_10k": round(total / 2**20 * per10k, 1),
        "files_mb": {k: round(v / 2**20, 2) for k, v in sorted(by_file.items(), key=lambda kv: -kv[1])},
        "build_from_cache": build, "build_delta_mb_per_10k": round(build["delta_mb"] * per10k, 1),
        "load": load, "load_delta_mb_per_10k": round(load["delta_mb"] * per10k, 1),
        "model_process": model,
    }


def dense_choice(vectors: np.ndarray, sizes: list[int]) -> list[dict[str, Any]]:
    """Flat vs HNSW on n vectors made by perturbing real embeddings (clusters of near-duplicates,
    harder for HNSW than real catalogs)."""
    import faiss

    from indexer.build.dense import HNSW_EF_CONSTRUCTION, HNSW_M

    rng = np.random.default_rng(0)
    dim = vectors.shape[1]
    out = []
    threads = faiss.omp_get_max_threads()
    for n in sizes:
        base = vectors[rng.integers(0, len(vectors), n)] + rng.normal(0, 0.35 / np.sqrt(dim), (n, dim))
        base = (base / np.linalg.norm(base, axis=1, keepdims=True)).astype(np.float32)
        q = vectors[rng.integers(0, len(vectors), 200)] + rng.normal(0, 0.35 / np.sqrt(dim), (200, dim))
        q = (q / np.linalg.norm(q, axis=1, keepdims=True)).astype(np.float32)
        flat = faiss.IndexFlatIP(dim)
        flat.add(base)
        t = time.perf_counter()
        flat.search(q[:50], 10)  # a batch uses every thread well
        flat_batch_ms = (time.perf_counter() - t) / 50 * 1000
        t = time.perf_counter()
        for i in range(20):  # single queries on every thread: OpenMP overhead, dreadful on a busy machine
            flat.search(q[i:i + 1], 10)
        flat_mt_ms = (time.perf_counter() - t) / 20 * 1000
        faiss.omp_set_num_threads(1)  # single queries are served single-threaded
        t = time.perf_counter()
        truth = np.stack([flat.search(q[i:i + 1], 10)[1][0] for i in range(len(q))])
        flat_ms = (time.perf_counter() - t) / len(q) * 1000
        faiss.omp_set_num_threads(threads)
        hnsw = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        hnsw.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        t = time.perf_counter()
        hnsw.add(base)
        build_s = time.perf_counter() - t
        faiss.omp_set_num_threads(1)
        row: dict[str, Any] = {"rows": n, "flat_ms_per_query_1_thread": round(flat_ms, 3),
                               f"flat_ms_per_query_{threads}_threads": round(flat_mt_ms, 3),
                               "flat_ms_per_query_in_batch_of_50": round(flat_batch_ms, 3),
                               "hnsw_build_s": round(build_s, 2)}
        for ef in (32, 64, 96, 128):
            hnsw.hnsw.efSearch = ef
            t = time.perf_counter()
            got = np.stack([hnsw.search(q[i:i + 1], 10)[1][0] for i in range(len(q))])
            ms = (time.perf_counter() - t) / len(q) * 1000
            recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(got, truth, strict=True)])
            row[f"ef{ef}"] = {"ms_per_query": round(ms, 3), "recall_at_10": round(float(recall), 4)}
        faiss.omp_set_num_threads(threads)
        out.append(row)
        print(json.dumps(row), flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description="aisle index benchmark")
    ap.add_argument("--sample", type=int, default=2000, help="products drawn from the shared catalogs")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--catalogs", type=Path, default=DEFAULT_CATALOGS)
    ap.add_argument("--sections", default="embedding,incremental,memory,dense",
                    help="comma list of: embedding,incremental (one section), memory, dense")
    ap.add_argument("--dense-sizes", default="20000,50000,100000")
    ap.add_argument("--shared-home", type=Path, default=None,
                    help="a full shared snapshot (benchmarks/_shared_index.py): memory and dense use it")
    ap.add_argument("--json", type=Path, default=None, help="write all figures to this file")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--child-home", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--child-data", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(args.child, args.child_home, args.child_data)
        return

    sections = set(args.sections.split(","))
    merchants, products, _ = parse_shared_catalogs(args.catalogs)
    sample = sorted(random.Random(0).sample(products, min(args.sample, len(products))), key=lambda p: p.doc_id)
    print(f"sample: {len(sample)} of {len(products)} products", flush=True)
    results: dict[str, Any] = {"sample": len(sample), "threads": __import__("torch").get_num_threads()}
    home = Path(tempfile.mkdtemp(prefix="aisle-bench-index-"))
    try:
        if sections & {"embedding", "incremental"}:
            from indexer.build.embed import load_encoder

            encoder = load_encoder(None, "cpu")
            e = results["embedding"] = embedding_vs_plain(sample, merchants, home, encoder, args.batch_size)
            print(json.dumps(e), flush=True)
            i = results["incremental"] = incremental_vs_full(sample, merchants, home, encoder, e["full_build_s"])
            print(json.dumps(i), flush=True)
            print(f"  pipeline embedding {e['pipeline_products_per_s']}/s vs plain encode "
                  f"{e['plain_products_per_s']}/s: ratio {e['throughput_ratio_pipeline_over_plain']}")
            print(f"  incremental (1% = {i['changed']} changed, {i['embedded']} embedded) {i['incremental_s']} s "
                  f"vs full {e['full_build_s']} s: ratio {i['incremental_over_full']}", flush=True)
        if "memory" in sections:
            # The full shared snapshot when there is one (its cache makes the child build embed nothing).
            if args.shared_home is not None:
                m = size_and_memory(args.shared_home, products, merchants)
            else:
                m = size_and_memory(home, sample, merchants)
            results["size_memory"] = m
            print(json.dumps(m), flush=True)
            print(f"  snapshot {m['snapshot_mb_per_10k']} MB per 10k products; build +{m['build_delta_mb_per_10k']} "
                  f"MB per 10k (from cache), load +{m['load_delta_mb_per_10k']} MB per 10k", flush=True)
        if "dense" in sections:
            from indexer.build.snapshot import load_current

            source = args.shared_home if args.shared_home is not None else home  # more real vectors
            vectors = np.asarray(load_current(Workspace.resolve(source)).vectors)
            results["dense"] = dense_choice(vectors, [int(s) for s in args.dense_sizes.split(",")])
    finally:
        shutil.rmtree(home, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
