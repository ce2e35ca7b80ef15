"""Two engine settings over one open snapshot, request by request (``benchmarks/scale_snapshot.py --ab SETTING``).

On a shared machine two runs minutes apart see different loads; here every request is answered by both
engines back to back, the order alternating query by query, so that both columns see the same load. Each pair
of responses is compared whole (less ``took_ms``): ``identical`` counts the pairs that are equal to the last
score. The query-vector cache is cleared before every search, so each one pays its encoding, as a new query does.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from benchmarks._synth import allowed_merchants
from benchmarks.scale_common import percentiles


def _stats(xs: list[float]) -> dict[str, float | None]:
    return {**percentiles(xs), "mean_ms": round(float(np.mean(xs)), 3) if xs else None}


def ab_runs(engines: dict[str, Any], texts: list[str], selectivities: list[float], repeat: int,
            modes: tuple[str, ...] = ("dense", "hybrid")) -> list[dict[str, Any]]:
    """Per selectivity and mode: each engine's p50 / p95 / mean ms over the timed passes (pass 0 is untimed),
    and how many of the last pass's response pairs were identical."""
    from search.schema import Filters, SearchRequest

    names = list(engines)
    out: list[dict[str, Any]] = []
    for sel in selectivities:
        merchants = allowed_merchants(sel)
        filters = Filters(merchant=merchants) if merchants else None
        res: dict[str, Any] = {"selectivity": sel}
        for mode in modes:
            times: dict[str, list[float]] = {n: [] for n in names}
            same = 0
            for rep in range(repeat + 1):
                same = 0
                for i, text in enumerate(texts):
                    req = SearchRequest(query=text, mode=mode, filters=filters, limit=10)  # type: ignore[arg-type]
                    dumps = []
                    for n in names if i % 2 == 0 else names[::-1]:
                        engines[n].clear_query_cache()
                        t = time.perf_counter()
                        resp = engines[n].search(req)
                        if rep:
                            times[n].append((time.perf_counter() - t) * 1000.0)
                        dumps.append(resp.model_dump(exclude={"took_ms"}))
                    same += all(d == dumps[0] for d in dumps)
            res[mode] = {n: _stats(times[n]) for n in names} | {"identical": same, "requests": len(texts)}
        out.append(res)
    return out


def ab_table(runs: list[dict[str, Any]]) -> list[str]:
    """The A/B runs as Markdown rows: p50 / p95 (mean) per engine, mode and selectivity."""
    modes = [m for m in runs[0] if m != "selectivity"] if runs else []
    names = [n for n in runs[0][modes[0]] if n not in ("identical", "requests")] if modes else []

    def cell(d: dict[str, Any]) -> str:
        return f"{d['p50_ms']:.1f} / {d['p95_ms']:.1f} ({d['mean_ms']:.1f})"

    head = "| selectivity | " + " | ".join(f"{m} {n} p50 / p95 (mean) ms" for m in modes for n in names) \
        + " | identical |"
    rows = [head, "|" + " --- |" * (2 + len(modes) * len(names))]
    for r in runs:
        same = ", ".join(f"{r[m]['identical']}/{r[m]['requests']}" for m in modes)
        rows.append(f"| {r['selectivity'] * 100:g} % | " + " | ".join(cell(r[m][n]) for m in modes for n in names)
                    + f" | {same} |")
    return rows
