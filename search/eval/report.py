"""The ``aisle eval --report DIR`` folder: report.json, report.md and PNG plots.

:func:`write_report` is the entry point. It writes:

* ``report.json``: :meth:`EvalResult.to_dict` (the ``--json`` document);
* ``report.md``: settings, a metrics table (mean and 95% interval per mode), the paired
  comparisons, nDCG by query kind, unmet constraints, per-query nDCG, unjudged and failed queries;
* ``metrics.png``: one bar per mode (and baseline) per metric, with 95% interval whiskers;
* ``delta.png``: per-query nDCG@k difference, sorted, of each mode against the baseline, or of
  hybrid against bm25 when there is no baseline (no file when neither pair exists).

Plots use matplotlib's Agg backend (no display needed).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from search.eval.metrics import ModeResult
from search.eval.run import EvalResult

_COLORS = {"bm25": "#4C72B0", "dense": "#DD8452", "hybrid": "#55A868"}
_BASE_COLOR = "#8C8C8C"
_PER_QUERY_ROWS = 200  # more queries than this: report.md lists the 50 lowest instead of all


def fmt(x: float | None, digits: int = 3) -> str:
    """A metric value for tables ('–' when there is none)."""
    return "–" if x is None else f"{x:.{digits}f}"


def fmt_ci(ci: tuple[float, float] | None) -> str:
    """A 95% interval for tables."""
    return "" if ci is None else f"[{ci[0]:.3f}, {ci[1]:.3f}]"


def fmt_p(p: float | None) -> str:
    """A p-value for tables."""
    if p is None:
        return "–"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def columns(result: EvalResult) -> dict[str, ModeResult]:
    """Modes in display order, then the baseline under its name."""
    cols = dict(result.modes)
    if result.baseline is not None:
        cols[str(result.settings.get("baseline_name", "baseline"))] = result.baseline
    return cols


def _delta_pairs(result: EvalResult) -> list[tuple[str, ModeResult, str, ModeResult]]:
    if result.baseline is not None:
        name = str(result.settings.get("baseline_name", "baseline"))
        return [(name, result.baseline, m, r) for m, r in result.modes.items()]
    if "bm25" in result.modes and "hybrid" in result.modes:
        return [("bm25", result.modes["bm25"], "hybrid", result.modes["hybrid"])]
    return []


def _markdown(result: EvalResult, plots: list[str], command: str | None) -> str:
    s = result.settings
    cols = columns(result)
    names = list(s["metrics"])
    out = ["# aisle relevance evaluation", ""]
    if command:
        out += ["```", command, "```", ""]
    out += [f"{s['scored_queries']} of {s['queries']} queries scored (a judgment with grade >= "
            f"{s['relevant_grade']}); means with a {int(s['confidence'] * 100)}% bootstrap interval "
            f"({s['bootstrap_resamples']} resamples, seed {s['seed']}).", ""]
    out += ["| metric | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
    for m in names:
        cells = []
        for r in cols.values():
            cells.append("n/a" if m not in r.metrics else
                         f"**{fmt(r.metrics[m])}** {fmt_ci(r.ci.get(m))} (n={r.n.get(m, 0)})")
        out.append(f"| {m} | " + " | ".join(cells) + " |")
    out.append("")
    lat = [f"{m} p50 {r.latency_ms['p50']:.1f}, p95 {r.latency_ms['p95']:.1f}"
           for m, r in result.modes.items() if r.latency_ms]
    if lat:
        out += ["Latency per query (ms, wall clock, all pages, this machine): " + "; ".join(lat) + ".", ""]
    if result.comparisons:
        out += ["## Paired comparisons", "",
                f"Treatment minus control over the queries both scored; two-sided paired t-test, significant at "
                f"p < {s['significance']} (uncorrected).", "",
                "| metric | control → treatment | control | treatment | Δ | 95% CI of Δ | p | n |",
                "|---|---|---|---|---|---|---|---|"]
        for c in result.comparisons:
            mark = " *" if c.significant else ""
            out.append(f"| {c.metric} | {c.control} → {c.treatment} | {fmt(c.control_mean)} | "
                       f"{fmt(c.treatment_mean)} | {c.delta:+.3f}{mark} | {fmt_ci(c.ci)} | "
                       f"{fmt_p(c.p_value)} | {c.n} |")
        out.append("")
    out += _by_kind(result, names[0])
    out += _by_kind(result, names[0], "split")
    unmet = {m: r.unmet for m, r in result.modes.items() if r.unmet}
    if unmet:
        keys = sorted({k for u in unmet.values() for k in u})
        out += ["## Unmet gold constraints (top-k variants failing each)", "",
                "| constraint | " + " | ".join(unmet) + " |", "|---|" + "---|" * len(unmet)]
        out += [f"| {k} | " + " | ".join(str(u.get(k, 0)) for u in unmet.values()) + " |" for k in keys]
        out.append("")
    out += _per_query(result, names[0])
    if result.unjudged_queries:
        out += ["## Queries left out (no relevant judgment)", ""]
        out += [f"- `{u['query_id']}` {u['query']!r}: {u['reason']}" for u in result.unjudged_queries]
        out.append("")
    failed = {(m, q): e for m, r in result.modes.items() for q, e in r.failed.items()}
    if failed:
        out += ["## Queries the engine refused (scored as empty)", ""]
        out += [f"- {m} `{q}`: {e}" for (m, q), e in failed.items()]
        out.append("")
    if result.warnings:
        out += ["## Warnings", ""] + [f"- {w}" for w in result.warnings] + [""]
    if plots:
        out += ["## Plots", ""] + [f"![{p}]({p})" for p in plots] + [""]
    return "\n".join(out)


def _by_kind(result: EvalResult, metric: str, key: str = "kind") -> list[str]:
    from search.eval.sets import group_scores

    groups = group_scores(result, metric, key)
    if not groups:
        return []
    modes = list(result.modes)
    out = [f"## {metric} by query {key} (mean [95% bootstrap CI])", "", f"| {key} | n | " + " | ".join(modes) + " |",
           "|---|---|" + "---|" * len(modes)]
    for g, by_mode in groups.items():
        n = max((v["n"] for v in by_mode.values()), default=0)
        cells = [f"{fmt(v['mean'])} {fmt_ci(tuple(v['ci']) if v['ci'] else None)}" for v in by_mode.values()]
        out.append(f"| {g} | {n} | " + " | ".join(cells) + " |")
    return out + [""]


def _per_query(result: EvalResult, metric: str) -> list[str]:
    cols = columns(result)
    qids = [q for q in result.queries if any(q in r.per_query for r in cols.values())]
    if not qids:
        return []
    title = f"## Per-query {metric}"
    if len(qids) > _PER_QUERY_ROWS:
        first = next(iter(cols.values()))
        qids = sorted(qids, key=lambda q: first.per_query.get(q, {}).get(metric) or 0.0)[:50]
        title += " (the 50 lowest)"
    out = [title, "", "| query | kind | " + " | ".join(cols) + " |", "|---|---|" + "---|" * len(cols)]
    for q in qids:
        text = str(result.queries[q]["query"]).replace("|", "\\|")
        cells = [fmt(r.per_query.get(q, {}).get(metric)) for r in cols.values()]
        out.append(f"| `{q}` {text} | {result.queries[q].get('kind') or ''} | " + " | ".join(cells) + " |")
    return out + [""]


def _plot_metrics(result: EvalResult, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    cols = columns(result)
    names = list(result.settings["metrics"])
    width = 0.8 / max(1, len(cols))
    fig, ax = plt.subplots(figsize=(max(9.0, 1.6 * len(names)), 5.0), dpi=120)
    x = np.arange(len(names))
    for i, (col, r) in enumerate(cols.items()):
        means = [r.metrics.get(m) for m in names]
        heights = [0.0 if v is None else v for v in means]
        lo: list[float] = []
        hi: list[float] = []
        for m, v in zip(names, means, strict=True):
            ci = r.ci.get(m)
            lo.append(0.0 if v is None or ci is None else max(0.0, v - ci[0]))
            hi.append(0.0 if v is None or ci is None else max(0.0, ci[1] - v))
        pos = x - 0.4 + width * (i + 0.5)
        color = _COLORS.get(col, _BASE_COLOR)
        bars = ax.bar(pos, heights, width, label=col, color=color, yerr=[lo, hi], capsize=3,
                      error_kw={"elinewidth": 1, "ecolor": "#333333"})
        for b, v, up in zip(bars, means, hi, strict=True):
            label = "n/a" if v is None else f"{v:.2f}"
            top = 0.0 if v is None else v + up  # above the whisker, so labels never hide the interval
            ax.annotate(label, (b.get_x() + b.get_width() / 2, top), ha="center", va="bottom",
                        fontsize=6.5 if len(cols) > 3 else 7.5, xytext=(0, 2), textcoords="offset points")
    ax.set_xticks(x, names)
    ax.set_ylim(0, 1.1)
    ax.set_ylabel("mean over scored queries")
    ax.set_title(f"aisle eval: {result.settings['scored_queries']} scored queries, means with 95% bootstrap "
                 "intervals", fontsize=10)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.08), ncols=len(cols), fontsize=8, frameon=False)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _plot_deltas(result: EvalResult, path: Path) -> bool:
    pairs = _delta_pairs(result)
    if not pairs:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metric = str(result.settings["metrics"][0])
    fig, axes = plt.subplots(len(pairs), 1, figsize=(10, 3.6 * len(pairs)), dpi=120, squeeze=False)
    for ax, (cname, c, tname, t) in zip(axes[:, 0], pairs, strict=True):
        qids = [q for q in t.per_query if q in c.per_query
                and t.per_query[q].get(metric) is not None and c.per_query[q].get(metric) is not None]
        deltas = sorted(((t.per_query[q][metric] or 0.0) - (c.per_query[q][metric] or 0.0), q) for q in qids)
        values = [d for d, _ in deltas]
        colors = ["#55A868" if d > 0 else "#C44E52" if d < 0 else "#8C8C8C" for d in values]
        ax.bar(range(len(values)), values, color=colors, width=0.85)
        ax.axhline(0, color="#333333", linewidth=0.8)
        mean = sum(values) / len(values) if values else 0.0
        ax.axhline(mean, color="#4C72B0", linestyle="--", linewidth=1, label=f"mean Δ {mean:+.3f}")
        better = sum(d > 0 for d in values)
        worse = sum(d < 0 for d in values)
        ax.set_title(f"{metric}: {tname} − {cname} per query ({better} better, {worse} worse, "
                     f"{len(values) - better - worse} tied)", fontsize=10)
        ax.set_ylabel(f"Δ {metric}")
        ax.set_ylim(-1.05, 1.05)
        if len(values) <= 60:
            ax.set_xticks(range(len(values)), [q for _, q in deltas], rotation=90, fontsize=7)
        else:
            ax.set_xlabel("queries, sorted by Δ")
        ax.legend(loc="upper left", fontsize=8)
        ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


def write_report(result: EvalResult, directory: str | os.PathLike[str], *, command: str | None = None) -> list[Path]:
    """Write report.json, report.md, metrics.png and (when a pair exists) delta.png; returns the paths."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    doc: dict[str, Any] = result.to_dict()
    if command:
        doc["command"] = command
    written = [out / "report.json"]
    written[0].write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    _plot_metrics(result, out / "metrics.png")
    plots = ["metrics.png"]
    if _plot_deltas(result, out / "delta.png"):
        plots.append("delta.png")
    (out / "report.md").write_text(_markdown(result, plots, command), encoding="utf-8")
    return written + [out / "report.md"] + [out / p for p in plots]
