"""Speed of query understanding (:func:`search.query.parse.parse_query`) against a trivial baseline in the same process.

Parses the shared dev queries (``../shared/eval/dev/queries.jsonl``) plus a few chat-style queries with a
vocabulary built from the shared catalogs (``../shared/catalogs``; the sample catalog under ``data/sample``
when the shared one is absent), and reports per-query time p50/p95/mean, the one-off vocabulary compile
time, and the ratio to a baseline that only normalises and tokenises the query (``normalize_value`` +
``\\w+`` split), i.e. the least any reader of the words must do.

    python benchmarks/query.py [--repeat 50] [--json]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from indexer.attributes import normalize_value  # noqa: E402
from indexer.build.vocabulary import Vocabulary  # noqa: E402
from search.query.parse import parse_query  # noqa: E402
from search.query.vocabulary import compile_vocabulary  # noqa: E402

SHARED = REPO.parent / "shared"
EXTRA = [
    "red wool beanie size M under $40 shipped to Canada",
    "Sony wireless headphones in white under £100, in stock",
    "camiseta oversize hombre negra talla L entre 10 y 20 €",
    "queen size sheets in grey between $50 and $120 that ship to the US",
    "something to protect hardwood floors under my office chair",
]


def _vocabulary() -> tuple[Vocabulary, str]:
    from tests.search.conftest import load_catalog

    cat = SHARED / "catalogs" if (SHARED / "catalogs" / "shopify").is_dir() else REPO / "data" / "sample"
    prods, _ = load_catalog(cat, shopify_base=lambda s: f"https://{s}.example", etsy_api="https://etsy.example/v3")
    return Vocabulary.build(prods), f"{cat.name} ({len(prods)} products)"


def _baseline(q: str) -> list[str]:
    return re.findall(r"\w+", normalize_value(q))


def _time(fn: Any, queries: list[str], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        for q in queries:
            t = time.perf_counter()
            fn(q)
            out.append((time.perf_counter() - t) * 1e6)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=50)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    vocab, source = _vocabulary()
    dev = SHARED / "eval" / "dev" / "queries.jsonl"
    lines = dev.read_text("utf-8").splitlines() if dev.is_file() else []
    queries = [json.loads(x)["query"] for x in lines if x.strip()]
    queries += EXTRA
    t = time.perf_counter()
    compile_vocabulary(vocab)
    compile_ms = (time.perf_counter() - t) * 1000
    base = _time(_baseline, queries, args.repeat)
    parsed = _time(lambda q: parse_query(q, vocab), queries, args.repeat)
    lexicon_only = _time(lambda q: parse_query(q, None), queries, args.repeat)
    long_q = " ".join(queries)[:2000]
    long_us = _time(lambda q: parse_query(q, vocab), [long_q], max(3, args.repeat // 10))

    def stats(xs: list[float]) -> dict[str, float]:
        p50, p95 = np.percentile(xs, [50, 95])
        return {"p50_us": round(float(p50), 1), "p95_us": round(float(p95), 1), "mean_us": round(float(np.mean(xs)), 1)}

    report = {
        "vocabulary": source, "queries": len(queries), "repeat": args.repeat, "compile_ms": round(compile_ms, 1),
        "baseline_tokenise": stats(base), "parse_query": stats(parsed),
        "parse_query_no_vocabulary": stats(lexicon_only),
        "parse_query_2000_chars": stats(long_us),
        "ratio_mean_vs_baseline": round(float(np.mean(parsed)) / max(float(np.mean(base)), 1e-9), 1),
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"vocabulary: {source}; compile once: {report['compile_ms']} ms; {len(queries)} queries x {args.repeat}")
    for k in ("baseline_tokenise", "parse_query", "parse_query_no_vocabulary", "parse_query_2000_chars"):
        s = report[k]
        print(f"  {k:28s} p50 {s['p50_us']:8.1f} us  p95 {s['p95_us']:8.1f} us  mean {s['mean_us']:8.1f} us")
    print(f"  parse_query / baseline (mean): {report['ratio_mean_vs_baseline']}x")


if __name__ == "__main__":
    main()
