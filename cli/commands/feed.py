"""``aisle feed``: export the current snapshot as a product feed file.

``--format acp`` writes the Agentic Commerce Protocol feed (structured feed 2026-04-17) as JSON Lines: one
``schema.feed.json#/$defs/Product`` per line, built by :func:`search.serve.acp.acp_products`, the same code
that serves ``GET /acp/feed`` (so the file equals the concatenated ``products`` of every feed page; gift cards
and products without variants are left out there and here). The file is written beside its destination and
renamed into place when complete, so an interrupted export never leaves half a feed; ``--output -`` writes to
stdout. Progress is drawn on stderr (one bar over the snapshot's products) when stderr is a terminal.

Merchant text in the feed is plain text (:func:`indexer.sanitise.plain_text`, field by field) and it is
catalog data, not instructions: the HTTP feed says so in its ``X-Aisle-Content-*`` headers; a file has no
headers, so the notice is in ``--json``'s summary and the README.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import typer

from cli.progress import progress_bars
from indexer.errors import ConfigError
from indexer.progress import ProgressCallback, ProgressEvent
from search.schema import MERCHANT_CONTENT_NOTICE

FORMATS = ("acp",)
_STEP = 500  # products per progress event

if TYPE_CHECKING:
    from indexer.build.snapshot import Snapshot


def write_acp_feed(snapshot: Snapshot, out: TextIO, progress: ProgressCallback) -> tuple[int, int]:
    """Write ``snapshot`` as ACP feed JSON Lines to ``out``; (products written, products left out)."""
    from search.serve.acp import acp_products

    products = snapshot.products
    progress(ProgressEvent("start", "export", "export", total=len(products)))
    written = 0
    for start in range(0, len(products), _STEP):
        # acp_products (search.serve.acp) decides what is left out, as for GET /acp/feed.
        for row in acp_products(products[start : start + _STEP], snapshot.merchants):
            out.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")
            written += 1
        progress(ProgressEvent("advance", "export", advance=len(products[start : start + _STEP])))
    progress(ProgressEvent("finish", "export", "export"))
    return written, len(products) - written


def feed(
    fmt: str = typer.Option("acp", "--format", help="Feed format: acp (Agentic Commerce Protocol, JSON Lines)."),
    output: str = typer.Option(..., "--output", "-o", help="File to write (JSON Lines), or - for stdout."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON summary (file, products, snapshot)."),
) -> None:
    """Export the current snapshot as a product feed: --format acp writes one ACP feed Product per line, the
    same records as GET /acp/feed (money in minor units; availability as crawled: re-check before checkout)."""
    from cli.main import State
    from indexer.build.snapshot import load_current

    if fmt.lower() not in FORMATS:
        raise ConfigError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}", code="bad_request")
    snapshot = load_current(State.workspace(read_only=True))
    show = sys.stderr.isatty() and not as_json
    with progress_bars("build", show) as progress:
        if output == "-":
            written, skipped = write_acp_feed(snapshot, sys.stdout, progress)
        else:
            written, skipped = _to_file(Path(output), snapshot, progress)
    summary = {"format": "acp", "output": output, "products": written, "left_out": skipped,
               "snapshot": snapshot.version, "content_notice": MERCHANT_CONTENT_NOTICE}
    if as_json:
        print(json.dumps(summary))
    elif output != "-":
        typer.echo(f"wrote {written} products to {output} (snapshot {snapshot.version}; {skipped} left out: "
                   "gift cards or no variants)", err=True)


def _to_file(path: Path, snapshot: Snapshot, progress: ProgressCallback) -> tuple[int, int]:
    if path.is_dir():
        raise ConfigError(f"--output {path} is a directory; name a file", code="bad_request")
    if not path.parent.is_dir():
        raise ConfigError(f"--output: folder {path.parent} does not exist", code="bad_request")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        with tmp.open("w", encoding="utf-8") as out:
            counts = write_acp_feed(snapshot, out, progress)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return counts


def register(app: typer.Typer) -> None:
    """Add ``aisle feed`` to the CLI."""
    app.command("feed")(feed)
