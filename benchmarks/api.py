#!/usr/bin/env python3
"""HTTP API throughput and latency against the in-process engine, on the same snapshot, in one run.

    python benchmarks/api.py [--home /work/bench-home] [--requests 400] [--concurrency 1,4,16]
                             [--workers 1] [--mode hybrid] [--markdown]

1. Baseline: ``Engine.search`` called in this process by 1, 4 and 16 threads.
   ``--native-threads`` (default 1) caps BLAS/OpenMP pools in this process and in the server alike.
2. HTTP: ``aisle serve`` in a subprocess (``--workers`` processes), driven by 1, 4 and 16 client threads,
   each with its own keep-alive ``httpx.Client``, ``POST /v1/search``.
3. MCP: ``search_catalog`` over streamable HTTP, one client session, sequential calls.

Queries: the shared dev queries (``../shared/eval/dev/queries.jsonl``), cycled. Every query is sent once
to each side before timing, so both sides run with a warm query-vector cache (the engine keeps the
vectors of the last 1,024 distinct queries): the figures are retrieval, ranking, variant choice,
eligibility and serialisation, not the encoder. Client threads share the machine with the server, so on
a small machine the HTTP figures include the load generator's own CPU use.

Prints, per level: QPS, p50/p95/p99 latency (ms) and the ratio to the in-process figure at the same
concurrency (latency ratio = HTTP p50 / engine p50; QPS ratio = HTTP QPS / engine QPS).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
# Run as a script, benchmarks/ comes first on sys.path and benchmarks/search.py would shadow the package.
sys.path[:] = [str(REPO)] + [p for p in sys.path if Path(p or ".").resolve() != REPO / "benchmarks"]
DEV_QUERIES = REPO.parent / "shared" / "eval" / "dev" / "queries.jsonl"
FALLBACK = ["red wool scarf", "merino beanie", "tea mug", "hiking boots size 42", "linen shirt under $50"]


def load_queries(path: Path) -> list[str]:
    if not path.is_file():
        return FALLBACK
    return [json.loads(line)["query"] for line in path.read_text("utf-8").splitlines() if line.strip()]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run_level(call: Callable[[int], None], requests: int, clients: int) -> dict[str, float]:
    """``requests`` calls spread over ``clients`` threads; latency percentiles (ms) and QPS."""
    latencies: list[float] = []
    lock = threading.Lock()
    counter = iter(range(requests))

    def worker() -> None:
        mine: list[float] = []
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                break
            t0 = time.perf_counter()
            call(i)
            mine.append((time.perf_counter() - t0) * 1000)
        with lock:
            latencies.extend(mine)

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        for f in [pool.submit(worker) for _ in range(clients)]:
            f.result()
    wall = time.perf_counter() - started
    return {"qps": requests / wall, "p50": percentile(latencies, 0.50), "p95": percentile(latencies, 0.95),
            "p99": percentile(latencies, 0.99), "mean": statistics.fmean(latencies)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(home: Path, workers: int, native_threads: int) -> tuple[subprocess.Popen[bytes], str]:
    aisle = shutil.which("aisle") or str(Path(sys.executable).with_name("aisle"))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "AISLE_API_TOKEN"}
    proc = subprocess.Popen([aisle, "--home", str(home), "serve", "--port", str(port), "--workers", str(workers),
                             "--native-threads", str(native_threads), "--log-level", "warning"], env=env,
                            stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while True:
        try:
            if httpx.get(f"{base}/v1/health", trust_env=False).status_code == 200:
                return proc, base
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("aisle serve did not start")
        time.sleep(0.5)


async def mcp_latencies(base: str, queries: list[str], n: int, mode: str) -> list[float]:
    from mcp.client.session import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    out: list[float] = []
    async with streamable_http_client(f"{base}/mcp") as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            for i in range(n):
                t0 = time.perf_counter()
                r = await session.call_tool("search_catalog", {"query": queries[i % len(queries)], "limit": 10})
                out.append((time.perf_counter() - t0) * 1000)
                if r.is_error:
                    raise SystemExit(f"MCP error: {r.content}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--home", type=Path, default=Path(os.environ.get("AISLE_BENCH_HOME", "/work/bench-home")))
    ap.add_argument("--requests", type=int, default=400, help="requests per concurrency level")
    ap.add_argument("--concurrency", default="1,4,16")
    ap.add_argument("--workers", type=int, default=1, help="aisle serve --workers")
    ap.add_argument("--mode", default="hybrid", choices=["hybrid", "bm25", "dense"])
    ap.add_argument("--mcp-requests", type=int, default=100)
    ap.add_argument("--native-threads", type=int, default=1,
                    help="BLAS/OpenMP threads per process, baseline and server alike (0: libraries' default)")
    ap.add_argument("--markdown", action="store_true", help="also print a markdown table")
    args = ap.parse_args()

    from indexer.workspace import Workspace
    from search.engine import Engine
    from search.retrieval.threads import limit_native_threads
    from search.schema import SearchRequest

    limit_native_threads(args.native_threads)

    levels = [int(x) for x in args.concurrency.split(",")]
    queries = load_queries(DEV_QUERIES)
    ws = Workspace.resolve(args.home)
    engine = Engine.open(ws)
    snap = engine.snapshot
    print(f"snapshot {snap.version}: {len(snap.products)} products, model {snap.manifest.get('model')}; "
          f"{len(queries)} distinct queries, {args.requests} requests per level, mode {args.mode}, "
          f"server workers {args.workers}, native threads {args.native_threads or 'default'}, {os.cpu_count()} CPUs")
    requests = [SearchRequest(query=q, limit=10, mode=args.mode) for q in queries]  # type: ignore[arg-type]
    for r in requests:  # warm: encoder loaded, query vectors cached
        engine.search(r)

    results: list[dict[str, Any]] = []
    base_by_level: dict[int, dict[str, float]] = {}
    for c in levels:
        stats = run_level(lambda i: engine.search(requests[i % len(requests)]) and None, args.requests, c)
        base_by_level[c] = stats
        results.append({"path": "engine (in-process)", "clients": c, **stats})

    proc, base = start_server(args.home, args.workers, args.native_threads)
    try:
        local = threading.local()

        def http_call(i: int) -> None:
            client = getattr(local, "client", None)
            if client is None:
                client = local.client = httpx.Client(base_url=base, timeout=60, trust_env=False)
            resp = client.post("/v1/search", json={"query": queries[i % len(queries)], "limit": 10,
                                                   "mode": args.mode})
            if resp.status_code != 200:
                raise SystemExit(f"HTTP {resp.status_code}: {resp.text[:300]}")

        for i in range(len(queries) * args.workers):  # warm every worker's cache (connections spread)
            with httpx.Client(base_url=base, trust_env=False, timeout=60) as c:
                c.post("/v1/search", json={"query": queries[i % len(queries)], "limit": 10, "mode": args.mode})
        for c in levels:
            stats = run_level(http_call, args.requests, c)
            results.append({"path": "HTTP POST /v1/search", "clients": c, **stats})
        if args.mcp_requests > 0:
            lat = asyncio.run(mcp_latencies(base, queries, args.mcp_requests, args.mode))
            total_s = sum(lat) / 1000
            results.append({"path": "MCP search_catalog", "clients": 1, "qps": len(lat) / total_s,
                            "p50": percentile(lat, 0.5), "p95": percentile(lat, 0.95), "p99": percentile(lat, 0.99),
                            "mean": statistics.fmean(lat)})
    finally:
        proc.terminate()
        proc.wait(timeout=30)

    header = f"{'path':<24}{'clients':>8}{'QPS':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'p50 x':>8}{'QPS x':>8}"
    print(header)
    rows = []
    for r in results:
        b = base_by_level.get(r["clients"])
        lat_x = r["p50"] / b["p50"] if b else float("nan")
        qps_x = r["qps"] / b["qps"] if b else float("nan")
        rows.append((r, lat_x, qps_x))
        print(f"{r['path']:<24}{r['clients']:>8}{r['qps']:>9.1f}{r['p50']:>9.2f}{r['p95']:>9.2f}{r['p99']:>9.2f}"
              f"{lat_x:>8.2f}{qps_x:>8.2f}")
    if args.markdown:
        print("\n| path | clients | QPS | p50 ms | p95 ms | p99 ms | p50 vs engine | QPS vs engine |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for r, lat_x, qps_x in rows:
            print(f"| {r['path']} | {r['clients']} | {r['qps']:.1f} | {r['p50']:.2f} | {r['p95']:.2f} | "
                  f"{r['p99']:.2f} | {lat_x:.2f}x | {qps_x:.2f}x |")


if __name__ == "__main__":
    main()
