"""``aisle eval``: score the engine on a judged query set, across modes or against a saved run."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.table import Table

from indexer.errors import ConfigError

if TYPE_CHECKING:
    from search.eval.run import EvalResult

console = Console()
err_console = Console(stderr=True)

_MODES = ("hybrid", "bm25", "dense", "all")


def eval_command(
    queries: list[Path] = typer.Option(..., "--queries", help="Queries: JSONL {query_id, query, context?, "
                                       "filters?, constraints?, kind?} or TSV query_id<TAB>query. Repeat to "
                                       "evaluate several files as one set (query ids must not repeat)."),
    qrels: list[Path] = typer.Option(..., "--qrels", help="Judgments: TREC 'qid 0 doc_id grade', JSONL "
                                     "{query_id, doc_id, grade}, or WANDS TSV (query_id, product_id, label). "
                                     "Repeatable; the files are merged."),
    constraints: Path | None = typer.Option(None, "--constraints", help="Gold constraints JSONL {query_id, "
                                            "constraints}; replaces those in the queries file."),
    mode: str = typer.Option("hybrid", "--mode", help="hybrid, bm25, dense, or all (the three side by side)."),
    k: int = typer.Option(10, "--k", min=1, max=100, help="Cut-off of nDCG, MRR, P, judged, constraint "
                          "satisfaction and eligible."),
    baseline: Path | None = typer.Option(None, "--baseline", help="A saved run (ranx JSON) to compare against."),
    save_run: Path | None = typer.Option(None, "--save-run", help="Write the run as ranx JSON: RUN.json for one "
                                         "mode, RUN.<mode>.json for each when several run."),
    report: Path | None = typer.Option(None, "--report", help="Write report.json, report.md and PNG plots "
                                       "into this directory."),
    near: bool = typer.Option(True, "--near/--strict", help="Append the engine's near matches (flagged "
                              "match.exact=false) after the exact ones (default), or score the strict answer."),
    as_json: bool = typer.Option(False, "--json", help="Print the results as JSON."),
    progress: bool | None = typer.Option(None, "--progress/--no-progress",
                                         help="Progress bar on stderr (default: when stderr is a terminal)."),
) -> None:
    """Run judged queries through the search engine (the same entry point agents use) and score them:
    nDCG@k (linear gains), Recall@100, MRR@k, P@k, judged@k, constraint satisfaction@k and eligible@k,
    each with a 95% bootstrap interval; paired significance tests between modes and against --baseline.

    Queries without a relevant judgment still run but are left out of the means and listed.
    """
    from cli.main import State
    from cli.progress import progress_bars
    from search.engine import Engine
    from search.eval.io import load_constraints, load_qrels, load_run, run_paths
    from search.eval.io import save_run as write_run
    from search.eval.report import write_report
    from search.eval.run import MODES, evaluate
    from search.eval.sets import load_query_sets, merge_qrels

    if mode not in _MODES:
        raise ConfigError(f"--mode must be one of {', '.join(_MODES)}, got {mode!r}")
    modes: tuple[Any, ...] = MODES if mode == "all" else (mode,)
    qs, splits = load_query_sets(queries)
    judged = merge_qrels([load_qrels(p) for p in qrels])
    gold = load_constraints(constraints) if constraints is not None else None
    base = load_run(baseline) if baseline is not None else None
    engine = Engine.open(State.workspace(read_only=True), settings=State.engine_settings())
    show = sys.stderr.isatty() if progress is None else progress
    with progress_bars("eval", show) as bars:
        result = evaluate(qs, judged, engine.search, modes=modes, k=k, constraints=gold, progress=bars,
                          baseline=base, baseline_name=f"baseline:{baseline.stem}" if baseline else "baseline",
                          include_near=near, splits=splits)
    saved: list[str] = []
    if save_run is not None:
        for m, target in run_paths(save_run, list(result.modes)).items():
            saved.append(str(write_run(result.modes[m].run, target)))
    written: list[str] = []
    if report is not None:
        command = "aisle " + " ".join(shlex.quote(a) for a in sys.argv[1:])
        written = [str(p) for p in write_report(result, report, command=command)]
    if as_json:
        doc = result.to_dict()
        doc["saved_runs"] = saved
        doc["report_files"] = written
        print(json.dumps(doc))
        return
    _print(result)
    for path in saved:
        console.print(f"run saved to {path}", soft_wrap=True)
    if written:
        console.print(f"report written to {report} ({', '.join(Path(p).name for p in written)})", soft_wrap=True)


def _print(result: EvalResult) -> None:
    from search.eval.report import columns, fmt, fmt_ci, fmt_p

    s = result.settings
    cols = columns(result)
    table = Table(title=f"{s['scored_queries']} of {s['queries']} queries scored · mean [95% bootstrap CI]")
    table.add_column("metric")
    for name in cols:
        table.add_column(name, justify="right")
    for m in s["metrics"]:
        table.add_row(m, *("n/a" if m not in r.metrics else f"{fmt(r.metrics[m])} {fmt_ci(r.ci.get(m))}"
                           for r in cols.values()))
    console.print(table)
    if result.comparisons:
        # One row per metric, one column per pair: compact enough for --mode all plus a baseline.
        pairs = list(dict.fromkeys((c.control, c.treatment) for c in result.comparisons))
        by = {(c.metric, c.control, c.treatment): c for c in result.comparisons}
        cmp = Table(title="paired comparisons: Δ = treatment − control"
                    + (" [95% CI]" if len(pairs) <= 3 else "")
                    + f", two-sided paired t-test p (* p < {s['significance']})")
        cmp.add_column("metric")
        for a, b in pairs:
            cmp.add_column(f"{a} → {b}", justify="right")
        for m in s["metrics"]:
            cells = []
            for a, b in pairs:
                c = by.get((m, a, b))
                if c is None:
                    cells.append("n/a")
                    continue
                color = ("green" if c.delta > 0 else "red") if c.significant else "default"
                star = "*" if c.significant else " "
                ci = f" {fmt_ci(c.ci)}" if len(pairs) <= 3 else ""  # many pairs: keep rows on one line
                cells.append(f"[{color}]{c.delta:+.3f}{star}[/{color}]{ci} p {fmt_p(c.p_value)}")
            cmp.add_row(m, *cells)
        console.print(cmp)
    lat = "; ".join(f"{m} p50 {r.latency_ms['p50']:.1f} p95 {r.latency_ms['p95']:.1f}"
                    for m, r in result.modes.items() if r.latency_ms)
    if lat:
        console.print(f"latency per query (ms, wall clock, all pages): {lat}", soft_wrap=True)
    if result.unjudged_queries:
        ids = ", ".join(f"{u['query_id']} ({u['reason']})" for u in result.unjudged_queries)
        console.print(f"[yellow]{len(result.unjudged_queries)} queries left out of the means:[/yellow] {ids}",
                      soft_wrap=True)
    for m, r in result.modes.items():
        for q, e in r.failed.items():
            console.print(f"[red]{m}: engine refused {q}[/red]: {e}", soft_wrap=True)
    for w in result.warnings:
        console.print(f"[yellow]warning[/yellow] {w}", soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add ``aisle eval`` to the CLI."""
    app.command("eval")(eval_command)
