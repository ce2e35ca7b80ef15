"""Storefront simulator throughput: products.json pages/s at limit 250 over the shared catalog.

    python benchmarks/storefront.py [--catalog ../shared/catalogs] [--passes 5]

Every Shopify store is walked page by page (limit 250) with one keep-alive httpx client, as a crawler
would, against the simulator running in this process (``running_storefront``). Baselines, measured in
the same process on the same bytes:

* raw file reads: ``Path.read_bytes()`` of every ``products.json`` (the bytes of all pages, no HTTP);
* naive serving: per page ``json.loads`` of the file + slice + ``json.dumps`` (what a server without the
  simulator's per-product cache would do).

Printed: load time, cold pass (first serialisation), warm passes, MB/s, and the ratios.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import httpx

from indexer.storefront import running_storefront

DEFAULT_CATALOG = Path(__file__).resolve().parents[1] / ".." / "shared" / "catalogs"
LIMIT = 250


def _walk(client: httpx.Client, base: str, slugs: list[str]) -> tuple[int, int]:
    pages = nbytes = 0
    for slug in slugs:
        page = 1
        while True:
            r = client.get(f"{base}/shopify/{slug}/products.json", params={"limit": LIMIT, "page": page})
            r.raise_for_status()
            pages += 1
            nbytes += len(r.content)
            if r.content.count(b'"handle":') < LIMIT:  # short page: done (no JSON parse on the client)
                break
            page += 1
    return pages, nbytes


def _raw_reads(files: list[Path]) -> tuple[float, int]:
    t = time.perf_counter()
    nbytes = sum(len(f.read_bytes()) for f in files)
    return time.perf_counter() - t, nbytes


def _naive(files: list[Path]) -> tuple[float, int]:
    t = time.perf_counter()
    pages = 0
    for f in files:
        n = len(json.loads(f.read_bytes())["products"])
        for start in range(0, n + 1, LIMIT):  # includes the final short/empty page, like the walk
            products = json.loads(f.read_bytes())["products"][start : start + LIMIT]
            json.dumps({"products": products}, ensure_ascii=False, separators=(",", ":")).encode()
            pages += 1
            if len(products) < LIMIT:
                break
    return time.perf_counter() - t, pages


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--catalog", type=Path, default=DEFAULT_CATALOG)
    ap.add_argument("--passes", type=int, default=5, help="warm passes over every store")
    args = ap.parse_args()
    files = sorted((args.catalog / "shopify").glob("*/products.json"))
    if not files:
        raise SystemExit(f"no shopify/*/products.json under {args.catalog}")

    t = time.perf_counter()
    with running_storefront(args.catalog) as sf, httpx.Client(trust_env=False, timeout=60) as client:
        load_s = time.perf_counter() - t
        slugs = sf.shopify_slugs
        t = time.perf_counter()
        cold_pages, cold_bytes = _walk(client, sf.base_url, slugs)
        cold_s = time.perf_counter() - t
        t = time.perf_counter()
        warm_pages = warm_bytes = 0
        for _ in range(args.passes):
            p, b = _walk(client, sf.base_url, slugs)
            warm_pages += p
            warm_bytes += b
        warm_s = time.perf_counter() - t
        t = time.perf_counter()
        small = 0
        for i in range(2000):  # per-request overhead: small JSON answers
            client.get(f"{sf.base_url}/shopify/{slugs[i % len(slugs)]}/meta.json").raise_for_status()
            small += 1
        small_s = time.perf_counter() - t

    raw_s = min(_raw_reads(files)[0] for _ in range(args.passes))
    raw_pages_per_s = cold_pages / raw_s  # the same bytes, as whole files
    naive_s, naive_pages = _naive(files)
    warm_pps = warm_pages / warm_s
    print(f"catalog: {len(files)} shopify stores, {cold_pages} pages of limit {LIMIT}, {cold_bytes / 1e6:.1f} MB/pass")
    print(f"load catalog + start server: {load_s:.2f} s")
    print(f"cold pass (serialise on first use): {cold_pages / cold_s:8.1f} pages/s  "
          f"{cold_bytes / cold_s / 1e6:7.1f} MB/s")
    print(f"warm passes x{args.passes} (cached):           {warm_pps:8.1f} pages/s  "
          f"{warm_bytes / warm_s / 1e6:7.1f} MB/s")
    print(f"small requests (meta.json):         {small / small_s:8.1f} requests/s")
    print(f"baseline raw file reads (no HTTP):   {raw_pages_per_s:8.1f} pages/s  {cold_bytes / raw_s / 1e6:7.1f} MB/s")
    print(f"baseline naive loads+dumps per page: {naive_pages / naive_s:8.1f} pages/s")
    print(f"ratio warm HTTP / raw file reads:   {warm_pps / raw_pages_per_s:.3f}")
    print(f"ratio warm HTTP / naive serving:    {warm_pps / (naive_pages / naive_s):.1f}x")


if __name__ == "__main__":
    main()
