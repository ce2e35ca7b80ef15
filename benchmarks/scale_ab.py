"""Two engine settings over one open snapshot, request by request (``benchmarks/scale_snapshot.py --ab SETTING``,
``benchmarks/search.py --ab SETTING``).

On a shared machine two runs minutes apart see different loads; here every request is answered by both
engines back to back, the order alternating request by request, so that both columns see the same load. Each
pair of responses is compared whole (less ``took_ms``): ``identical`` counts the pairs equal to the last score.
The query-vector cache is cleared before every search, so each one pays its encoding, as a new query does.

Besides the wall time, the CPU time of the requesting thread (``time.thread_time``): the work on the request's
own critical path. With ``prefetch_query_vector`` the query's encoding leaves that thread for the engine's
encoder thread, so on a machine with a core to spare the wall time falls toward it; on a loaded machine (other
processes on every core) the wall time cannot show the overlap, the thread's CPU time still does.
"""

from __future__ import annotations

import copy
import time
from dataclasses import replace
from typing import Any

import numpy as np

from benchmarks.scale_common import percentiles


def _stats(xs: list[float]) -> dict[str, float | None]:
    return {**percentiles(xs), "mean_ms": round(float(np.mean(xs)), 3) if xs else None}


def flipped(engine: Any, name: str) -> dict[str, Any]:
    """``{"name=value": engine, "name=not value": the same engine (snapshot, filter arrays, query encoder and its
    cache, cursor key) with the setting flipped}``; ``name=OTHER`` sets a string setting to OTHER instead."""
    name, _, given = name.partition("=")
    value = getattr(engine.settings, name) if given else bool(getattr(engine.settings, name))
    changed = given or (not value)
    other = copy.copy(engine)
    other.settings = replace(engine.settings, **{name: changed})
    return {f"{name}={value}": engine, f"{name}={changed}": other}


def ab_runs(engines: dict[str, Any], requests: dict[str, list[Any]], repeat: int) -> dict[str, Any]:
    """Per label of ``requests``: each engine's wall and request-thread CPU p50 / p95 / mean ms over the timed
    passes (pass 0 is untimed), and how many of the last pass's response pairs were identical (whole responses,
    and the ranked product ids alone: a setting that changes scores but not the order counts in the second)."""
    names = list(engines)
    out: dict[str, Any] = {}
    for label, reqs in requests.items():
        wall: dict[str, list[float]] = {n: [] for n in names}
        cpu: dict[str, list[float]] = {n: [] for n in names}
        same = order = 0
        for rep in range(repeat + 1):
            same = order = 0
            for i, req in enumerate(reqs):
                dumps = []
                for n in names if i % 2 == 0 else names[::-1]:
                    engines[n].clear_query_cache()
                    c, t = time.thread_time(), time.perf_counter()
                    resp = engines[n].search(req)
                    if rep:
                        wall[n].append((time.perf_counter() - t) * 1000.0)
                        cpu[n].append((time.thread_time() - c) * 1000.0)
                    dumps.append(resp.model_dump(exclude={"took_ms"}))
                same += all(d == dumps[0] for d in dumps)
                order += all(_ids(d) == _ids(dumps[0]) for d in dumps)
        out[label] = {n: {"wall": _stats(wall[n]), "thread_cpu": _stats(cpu[n])} for n in names} | {
            "identical": same, "same_order": order, "requests": len(reqs)}
    return out


def _ids(dump: dict[str, Any]) -> list[str]:
    return [r["doc_id"] for r in dump.get("results", [])]


def ab_table(runs: dict[str, Any]) -> list[str]:
    """The A/B runs as Markdown rows: wall p50 / p95 (mean) and request-thread CPU p50 per engine and label."""
    names = [n for n in next(iter(runs.values())) if n not in ("identical", "same_order", "requests")] if runs else []

    def cell(d: dict[str, Any]) -> str:
        w, c = d["wall"], d["thread_cpu"]
        return f"{w['p50_ms']:.1f} / {w['p95_ms']:.1f} ({w['mean_ms']:.1f}); cpu {c['p50_ms']:.1f}"

    rows = ["| requests | " + " | ".join(f"{n}: wall p50 / p95 (mean) ms; thread CPU p50" for n in names)
            + " | identical (same order) |", "|" + " --- |" * (2 + len(names))]
    for label, r in runs.items():
        rows.append(f"| {label} | " + " | ".join(cell(r[n]) for n in names)
                    + f" | {r['identical']}/{r['requests']} ({r.get('same_order', '?')}) |")
    return rows
