#!/usr/bin/env python3
"""Fuzz the API on loopback: seeded random requests across ``/v1``, UCP, ACP and MCP (issue 12).

The server is the real app (:func:`search.serve.http.create_app`) under uvicorn on a free 127.0.0.1 port,
over the sample catalog (``data/sample`` through the real parsers; ``hashing-64`` vectors so that the run
measures the edge, not the encoder). Merchants point at a closed loopback port, so a live re-check that
gets past validation fails fast (``merchant_unreachable``) instead of leaving the machine.

Each request is a valid one for its surface, then mutated by a seeded random generator (reproducible with
``--seed``): fields dropped, wrong types, huge, empty, unicode, control-character and NUL strings, numbers
out of range, deep nesting, truncated or non-JSON bodies, wrong content types, unknown paths and methods,
odd query parameters, forged cursors, hostile Host headers, malformed JSON-RPC and unknown MCP tools.

Counts (exit status 1 when one fails): server errors (5xx, must be 0), tracebacks in response bodies or in
the server's log records (must be 0), and the p99 latency of rejected requests (4xx, must be < 100 ms).

    python benchmarks/fuzz_api.py [--requests 10000] [--seed 12] [--max-seconds 900] [--json]
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from search.serve.http import create_app  # noqa: E402

CLOSED_PORT_BASE = "http://127.0.0.1:9/shopify"  # discard port: nothing listens, connections are refused
MCP_HEADERS = {"accept": "application/json, text/event-stream", "content-type": "application/json"}
TRACE_MARKS = ("Traceback (most recent call last)", 'File "/', "site-packages")


class _LogTrap(logging.Handler):
    """Keeps every log record that carries a traceback (``exc_info``) or traceback text."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.hits: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info or any(m in text for m in TRACE_MARKS):
            self.hits.append(f"{record.name}: {text[:200]}")


def _engine() -> Any:
    from tests.search.conftest import load_catalog, make_engine

    products, merchants = load_catalog(REPO / "data" / "sample", shopify_base=lambda s: f"{CLOSED_PORT_BASE}/{s}",
                                       etsy_api="http://127.0.0.1:9/v3/application")
    return make_engine(products, merchants, now=time.time()), products


# --- generators ---------------------------------------------------------------------------------------

WEIRD_STRINGS = ["", " ", "\u0000", "U\u0000", "ZZ", "ÜS", "😀" * 50, "<script>alert(1)</script>", "' OR 1=1 --",
                 "../../etc/passwd", "%00", "\u202e\u202d", "a" * 5000, "9" * 2000, "size " * 400, "$" * 3000,
                 "null", "NaN", "-1", "1e309", "\\", '"', "{}", "[]", "javascript:alert(1)", "\ud7ff", "Canada"]
WEIRD_VALUES: list[Any] = [None, True, False, 0, -1, 1.5, 10**20, -(10**20), float("inf") if False else 1e308,
                           [], {}, [None], {"a": None}, "x", [["x"]], {"$ref": "#"}]


def _weird(rng: random.Random) -> Any:
    pick = rng.random()
    if pick < 0.5:
        return rng.choice(WEIRD_STRINGS)
    if pick < 0.8:
        return rng.choice(WEIRD_VALUES)
    return _nest(rng, rng.randint(2, 200))


def _nest(rng: random.Random, depth: int) -> Any:
    v: Any = "x"
    for _ in range(depth):
        v = [v] if rng.random() < 0.5 else {"k": v}
    return v


def _mutate(rng: random.Random, obj: Any, rate: float = 0.3) -> Any:
    """A copy of ``obj`` with some values replaced, keys dropped or added (recursively)."""
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            r = rng.random()
            if r < rate * 0.3:
                continue  # dropped
            out[k] = _weird(rng) if r < rate else _mutate(rng, v, rate)
        if rng.random() < rate * 0.3:
            out[rng.choice(["extra", "colour", "limt", "__proto__", "filters", "x" * 100])] = _weird(rng)
        return out
    if isinstance(obj, list):
        return [_mutate(rng, v, rate) for v in obj]
    return _weird(rng) if rng.random() < rate * 0.5 else obj


def _search_body(rng: random.Random, doc: dict[str, Any]) -> dict[str, Any]:
    return {"query": rng.choice(["red wool beanie size M under $40", "mug", "boots size 10", doc["title"]]),
            "filters": {"attributes": {"color": ["red"]}, "price": {"min": 100, "max": 9000, "currency": "USD"}},
            "context": {"country": rng.choice(["US", "GB", "CA", "Canada"]), "currency": "USD"},
            "limit": rng.randint(1, 20), "include_near": rng.random() < 0.5}


def _request(rng: random.Random, products: list[Any], cursors: list[str]) -> tuple[str, str, dict[str, Any]]:
    """``(method, path, httpx keyword arguments)`` for one fuzzed request."""
    p = rng.choice(products)
    doc = {"title": p.title, "doc_id": p.doc_id, "variant": p.variants[0].variant_id}
    kind = rng.choice(["search", "search", "product", "check", "ucp", "ucp", "acp", "mcp", "mcp", "raw", "ops"])
    headers: dict[str, str] = {}
    if rng.random() < 0.03:
        headers["host"] = rng.choice(["evil.example", "127.0.0.1.evil.example", "localhost:1", "[::1]"])
    if kind == "search":
        body = _mutate(rng, _search_body(rng, doc))
        if cursors and rng.random() < 0.2:
            c = rng.choice(cursors)
            body["cursor"] = c if rng.random() < 0.5 else c[:-3] + "AAA"
        return "POST", "/v1/search", {"json": body, "headers": headers}
    if kind == "product":
        doc_id = doc["doc_id"] if rng.random() < 0.6 else str(_weird(rng))[:400]
        country = str(_weird(rng))[:80] if rng.random() < 0.4 else "US"
        return "GET", f"/v1/products/{quote(doc_id, safe=':')}", {"params": {"country": country}, "headers": headers}
    if kind == "check":
        body = _mutate(rng, {"items": [{"variant_id": doc["variant"], "quantity": 1, "doc_id": doc["doc_id"]}],
                             "country": "US"})
        return "POST", "/v1/checkout/check", {"json": body, "headers": headers}
    if kind == "ucp":
        body = _mutate(rng, {"query": doc["title"], "context": {"address_country": "US", "currency": "USD"},
                             "filters": {"categories": ["Hats"], "price": {"min": 0, "max": 5000}},
                             "pagination": {"limit": 5}})
        return "POST", "/ucp/catalog/search", {"json": body, "headers": headers}
    if kind == "acp":
        params = {"offset": rng.choice([0, 5, -1, 10**12, "x", ""]), "limit": rng.choice([1, 50, 0, 1001, "many"])}
        return "GET", "/acp/feed", {"params": params, "headers": headers}
    if kind == "mcp":
        return "POST", "/mcp", {"content": _mcp_body(rng, doc), "headers": {**MCP_HEADERS, **headers}}
    if kind == "ops":
        return rng.choice([("GET", "/v1/health"), ("GET", "/v1/stats"), ("GET", "/openapi.json")]) + (
            {"headers": headers},)
    return _raw(rng, headers)


def _mcp_body(rng: random.Random, doc: dict[str, Any]) -> bytes:
    tool, args = rng.choice([
        ("search_catalog", {"query": doc["title"], "country": "US", "limit": 5}),
        ("get_product", {"doc_id": doc["doc_id"], "country": "GB"}),
        ("check_checkout", {"items": [{"variant_id": doc["variant"]}], "country": "US"}),
        ("no_such_tool", {}),
    ])
    msg: Any = {"jsonrpc": "2.0", "id": rng.randint(0, 10**6), "method": "tools/call",
                "params": {"name": tool, "arguments": _mutate(rng, args, 0.4)}}
    r = rng.random()
    if r < 0.1:
        msg = _mutate(rng, msg, 0.5)
    if r > 0.95:
        return json.dumps(msg).encode()[: rng.randint(0, 40)]  # truncated
    return json.dumps(msg).encode()


def _raw(rng: random.Random, headers: dict[str, str]) -> tuple[str, str, dict[str, Any]]:
    """Bodies that are not JSON, or JSON that is too deep, with odd methods, paths and content types."""
    path = rng.choice(["/v1/search", "/ucp/catalog/search", "/v1/checkout/check", "/mcp", "/v1/nothing", "/",
                       "/v1/products/", "/v1/search/../stats", "/%00", "/v1/search?x=" + "y" * 3000])
    body = rng.choice([b"{", b"[" * 5000 + b"]" * 5000, b'{"query": ' + b"[" * 300 + b"]" * 300 + b"}",
                       b"\xff\xfe\x00", b"null", b'"just a string"', b"1e999999", b'{"query": "\\ud800"}',
                       json.dumps({"query": "hat"}).encode() * 3, b""])
    ctype = rng.choice(["application/json", "text/plain", "application/x-www-form-urlencoded", ""])
    method = rng.choice(["POST", "POST", "PUT", "DELETE", "PATCH", "GET"])
    return method, path, {"content": body, "headers": {**headers, **({"content-type": ctype} if ctype else {})}}


# --- run ------------------------------------------------------------------------------------------------


def run(requests: int, seed: int, max_seconds: float) -> dict[str, Any]:
    """Fire ``requests`` fuzzed requests (or as many as fit in ``max_seconds``) and count what matters."""
    from tests.search.apiworld import running_api

    rng = random.Random(seed)
    eng, products = _engine()
    trap = _LogTrap()
    logging.getLogger().addHandler(trap)
    statuses: Counter[int] = Counter()
    by_surface: Counter[str] = Counter()
    rejected_ms: list[float] = []
    all_ms: list[float] = []
    tracebacks: list[str] = []
    server_errors: list[str] = []
    cursors: list[str] = []
    started = time.monotonic()
    sent = 0
    with running_api(create_app(engine=eng, refresh_interval=0)) as base, \
            httpx.Client(base_url=base, trust_env=False, timeout=30) as client:
        while sent < requests and time.monotonic() - started < max_seconds:
            method, path, kw = _request(rng, products, cursors)
            try:
                req = client.build_request(method, path, **kw)
            except (httpx.InvalidURL, ValueError, TypeError):
                continue  # the client itself cannot send it (not counted)
            t = time.perf_counter()
            try:
                resp = client.send(req)
            except httpx.HTTPError as exc:  # the server dropped the connection: count it as a server error
                server_errors.append(f"{method} {path[:80]}: {type(exc).__name__}")
                sent += 1
                continue
            ms = (time.perf_counter() - t) * 1000.0
            sent += 1
            if sent % 1000 == 0:
                print(f"{sent} requests, {len(server_errors)} server errors", file=sys.stderr, flush=True)
            statuses[resp.status_code] += 1
            by_surface[path.split("/")[1] or "/"] += 1
            all_ms.append(ms)
            text = resp.text
            if any(m in text for m in TRACE_MARKS):
                tracebacks.append(f"{method} {path[:80]} -> {resp.status_code}")
            if resp.status_code >= 500:
                server_errors.append(f"{method} {path[:80]} -> {resp.status_code}: {text[:200]}")
            elif 400 <= resp.status_code < 500:
                rejected_ms.append(ms)
            if path == "/v1/search" and resp.status_code == 200 and len(cursors) < 50:
                nxt = resp.json().get("next_cursor")
                if nxt:
                    cursors.append(nxt)
    logging.getLogger().removeHandler(trap)
    rejected_ms.sort()

    def pct(q: float, xs: list[float]) -> float | None:
        return round(xs[min(len(xs) - 1, int(q * len(xs)))], 2) if xs else None

    return {
        "requests": sent, "seed": seed, "seconds": round(time.monotonic() - started, 1),
        "statuses": dict(sorted(statuses.items())), "surfaces": dict(by_surface),
        "server_errors": len(server_errors), "server_error_examples": server_errors[:5],
        "tracebacks_in_responses": len(tracebacks), "tracebacks_in_logs": len(trap.hits),
        "traceback_examples": (tracebacks + trap.hits)[:5],
        "rejected": len(rejected_ms), "rejected_p50_ms": pct(0.5, rejected_ms),
        "rejected_p99_ms": pct(0.99, rejected_ms),
        "all_p50_ms": round(statistics.median(all_ms), 2) if all_ms else None, "all_p99_ms": pct(0.99, sorted(all_ms)),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=12)
    ap.add_argument("--max-seconds", type=float, default=900.0)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    out = run(args.requests, args.seed, args.max_seconds)
    ok = (out["server_errors"] == 0 and out["tracebacks_in_responses"] == 0 and out["tracebacks_in_logs"] == 0
          and (out["rejected_p99_ms"] or 0) < 100.0)
    out["ok"] = ok
    print(json.dumps(out, indent=None if args.json else 2, ensure_ascii=False))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
