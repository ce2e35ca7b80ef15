"""``aisle index``: turn the DuckDB catalog into a new search snapshot (incremental, atomic)."""

from __future__ import annotations

import json
import sys
import time

import typer
from rich.console import Console
from rich.table import Table

from indexer.errors import ConfigError

console = Console()


def index(
    full: bool = typer.Option(False, "--full", help="Re-embed every product and rebuild even if the catalog "
                              "is unchanged (ignores the embedding cache)."),
    model: str | None = typer.Option(None, "--model", help="sentence-transformers model name or local directory "
                                     "(default: the bundled all-MiniLM-L6-v2, offline)."),
    batch_size: int | None = typer.Option(None, "--batch-size", help="Texts per embedding batch (default 64; with "
                                          "--ray, a quarter of the texts per Ray Data pipeline run, default 1024)."),
    device: str | None = typer.Option(None, "--device", help="cpu, cuda or cuda:N (default: CUDA when present)."),
    backend: str | None = typer.Option(None, "--backend", help="Embedding backend: openvino-bf16 (OpenVINO, "
                                       "bf16 on AMX; the default on CPU when the openvino extra is installed), "
                                       "openvino (OpenVINO fp32), torch (fp32 PyTorch, sentence-transformers; the "
                                       "default otherwise), onnx (ONNX Runtime fp32) or onnx-int8 (int8 weights). "
                                       "Env AISLE_EMBED_BACKEND. Recorded in the snapshot: queries are encoded "
                                       "with vectors of the same kind."),
    multilingual: bool | None = typer.Option(None, "--multilingual/--no-multilingual", help="Also write "
                                             "multilingual USE vectors (cached by text hash) for cross-language "
                                             "queries; the engine uses them automatically. Default: as the current "
                                             "snapshot has them. Adding them to an unchanged catalog needs --full."),
    shards: int = typer.Option(0, "--shards", min=0, help="Also partition the snapshot by merchant into N index "
                               "shards under <home>/shards/ (a merchant never spans shards and keeps its shard), "
                               "each its own versioned snapshot: only shards whose products changed are rebuilt; "
                               "for `aisle serve --ray`."),
    use_ray: bool = typer.Option(False, "--ray", help="Embed with a Ray Data pipeline (needs aisle[ray]): same "
                                 "text recipe, cache, model, backend and snapshot as the local build."),
    address: str | None = typer.Option(None, "--address", help="With --ray: the Ray cluster to join (default: a "
                                       "local one)."),
    ray_workers: int = typer.Option(2, "--ray-workers", min=1, help="With --ray: model actors in the pipeline."),
    as_json: bool = typer.Option(False, "--json", help="Print the build report as JSON."),
    progress: bool | None = typer.Option(None, "--progress/--no-progress",
                                         help="Progress bars on stderr (default: when stderr is a terminal)."),
) -> None:
    """Index the crawled catalog: embeddings (cached), BM25, FAISS and the attribute vocabulary, written
    as a new snapshot under <home>/indexes/ and switched to atomically once verified.

    Only new or changed products are embedded. An unchanged catalog (same crawl watermark and model)
    is left alone unless --full.
    """
    from cli.main import State
    from cli.progress import progress_bars
    from indexer.build.embed import check_backend
    from indexer.build.index import index_workspace
    from search.engine import Engine

    batch_size = batch_size if batch_size is not None else (1024 if use_ray else 64)
    chosen = backend or State.settings().embed_backend
    if chosen is not None:
        check_backend(chosen)  # a typo is an error before the catalog is read
    if batch_size < 1:
        raise ConfigError(f"--batch-size must be at least 1, got {batch_size}")
    encoder = None
    if use_ray:
        from indexer.build.embed import kept_backend
        from indexer.build.ray_embed import RayDataEncoder, ray_module

        ray_module(address)
        # the local build's backend: the one asked for, else the current snapshot's (a re-index stays incremental)
        encoder = RayDataEncoder(model, device, workers=ray_workers, address=address,
                                 backend=chosen or kept_backend(State.workspace(), model, device))
    show = sys.stderr.isatty() if progress is None else progress
    with progress_bars("build", show) as bars:
        report = index_workspace(State.workspace(), model, device, full=full, batch_size=batch_size, progress=bars,
                                 multilingual=multilingual, encoder=encoder, backend=chosen)
    t0 = time.perf_counter()
    Engine.open(State.workspace(), settings=State.engine_settings())  # writes the memory-mapped filter columns
    report.seconds["columns"] = round(time.perf_counter() - t0, 3)  # (search.filter.columns) unless present
    shard_report = None
    if shards:
        from indexer.build.shards import shard_workspace, shards_root

        shard_report = shard_workspace(State.workspace(), shards)
    if as_json:
        print(json.dumps({**report.to_dict(), **({"shards": shard_report.to_dict()} if shard_report else {})}))
        return
    if shard_report is not None:
        console.print(f"{shard_report.shards} index shards in {shards_root(State.workspace().home)}: rebuilt "
                      f"{shard_report.rebuilt or 'none'}, versions {shard_report.versions}", soft_wrap=True)
    if report.status == "unchanged":
        console.print(f"catalog unchanged since snapshot [bold]{report.version}[/bold] "
                      f"({report.products} products, model {report.model}); nothing to do (use --full to rebuild)")
        return
    console.print(f"built snapshot [bold]{report.version}[/bold] at {report.path}", soft_wrap=True)
    table = Table(show_header=False, box=None)
    for key in ("products", "merchants", "embedded", "reused", "tokenized", "added", "changed", "removed"):
        table.add_row(key, str(getattr(report, key)))
    table.add_row("model", f"{report.model} (dim {report.dim})")
    table.add_row("dense index", str(report.dense))
    table.add_row("seconds", "  ".join(f"{k} {v:.2f}" for k, v in report.seconds.items())
                  + f"  total {report.total_seconds:.2f}")
    if report.deleted_versions:
        table.add_row("pruned", ", ".join(report.deleted_versions))
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add ``aisle index`` to the CLI."""
    app.command("index")(index)
