"""IVF probing settings side by side on one open snapshot (``benchmarks/scale_snapshot.py --nprobe``; issue 14).

:func:`probe_settings` makes one engine per ``EngineSettings.nprobe`` / ``nprobe_power`` over the same open snapshot
and filter arrays; :func:`probe_costs` times the dense search alone per setting, the settings taking turns query by
query.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import numpy as np

from benchmarks.scale_common import Spec


def probe_settings(engines: dict[str, Any], nprobes: list[str]) -> dict[str, Any]:
    """Each engine once per ``--nprobe`` value (``N`` or ``N:POWER``; ``index``: the index's own nprobe), over the
    very same open snapshot and filter arrays (``with_dense`` of its own index shares them); ``index`` alone keeps
    the names."""
    if nprobes == ["index"]:
        return engines
    out: dict[str, Any] = {}
    for b, (eng, e) in engines.items():
        for token in nprobes:
            n, _, power = token.partition(":")
            other = eng.with_dense(eng.snapshot.dense)
            other.settings = replace(eng.settings, nprobe=None if n == "index" else int(n),
                                     nprobe_power=float(power or eng.settings.nprobe_power))
            out[f"{b} nprobe {token}"] = (other, e)
    return out


def probe_costs(spec: Spec, engines: dict[str, Any], qvecs: np.ndarray) -> dict[str, dict[str, float]]:
    """Dense search alone (the allowed rows given, the query vector given, depth as the engine's), ms p50 / mean
    per setting and selectivity: the settings take turns query by query, who goes first rotating; one untimed
    pass. What nprobe changes, without the encoding, the filter and the rest of the request around it."""
    from benchmarks._synth import allowed_merchants
    from search.filter.constraints import Constraints
    from search.filter.variants import allowed_rows
    from search.retrieval.retrieve import dense

    names = list(engines)
    eng0 = engines[names[0]][0]
    times: dict[str, dict[str, list[float]]] = {b: {} for b in names}
    for sel in spec.selectivities:
        merchants = allowed_merchants(sel)
        allowed = allowed_rows(eng0.catalog, Constraints(merchants=tuple(merchants)))[1] if merchants else None
        for rep in range(2):
            for i, q in enumerate(qvecs):
                for b in names[i % len(names):] + names[: i % len(names)]:
                    s = engines[b][0].settings
                    t = time.perf_counter()
                    dense(eng0.snapshot.dense, eng0.snapshot.vectors, q, s.candidate_depth, allowed,
                          exact_threshold=s.exact_threshold, probe=(s.nprobe, s.nprobe_power))
                    if rep:
                        times[b].setdefault(f"{sel:g}", []).append((time.perf_counter() - t) * 1000.0)
    return {b: {k: f"{np.percentile(v, 50):.2f} / {np.mean(v):.2f}" for k, v in d.items()}  # type: ignore[misc]
            for b, d in times.items()}


def probe_ab(spec: Spec, engine: Any, enc: Any, texts: list[str], out: dict[str, Any]) -> dict[str, Any]:
    """``--ab nprobe --nprobe A,B``: the probing settings answer every request back to back, request by request
    (:func:`benchmarks.scale_ab.ab_runs`: the same load for each, whole responses compared)."""
    from benchmarks.scale_ab import ab_runs
    from search.schema import SearchRequest

    engines = {name.strip(): e for name, (e, _) in
               probe_settings({"": (engine, enc)}, list(spec.options.get("nprobe") or ["index"])).items()}
    for e in engines.values():
        e.search(SearchRequest(query="warm up the encoder", mode="dense"))
    out["ab"] = ab_runs(engines, texts, list(spec.selectivities), spec.repeat)
    return out
