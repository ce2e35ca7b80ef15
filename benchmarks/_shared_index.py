"""Build (or reuse) a snapshot of the shared evaluation catalogs, for benchmarks and evaluation.

Parses ``../shared/catalogs`` directly with :mod:`indexer.crawl.parse` (no HTTP, no DuckDB) and builds a
snapshot in a workspace with :func:`indexer.build.index.build_index`. The watermark is a hash of the
catalog files' names, sizes and modification times, so a second call on an unchanged catalog
returns at once ("unchanged"), and the embedding cache makes even a ``--full``-free rebuild after
a catalog change cost only the changed products.

Library use (from another benchmark or an evaluation script)::

    from benchmarks._shared_index import shared_snapshot
    snapshot = shared_snapshot(Path("/work/bench-home"))    # builds once (~4 min on 2 CPU cores), then loads

Command line::

    python benchmarks/_shared_index.py --home /work/bench-home [--catalogs DIR] [--model M] [--device cpu] \
        [--backend onnx-int8]

Products differ from a crawl of the storefront simulator only in their URLs (``https://<domain>``
from ``meta.json`` instead of the simulator's address); doc ids are the same.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(REPO))

from cli.progress import progress_bars  # noqa: E402
from indexer.build.embed import encoder_name, kept_backend, load_encoder, onnx_cache_dir  # noqa: E402
from indexer.build.index import BuildReport, build_index, unchanged_manifest  # noqa: E402
from indexer.build.snapshot import Snapshot, current_version, load_current  # noqa: E402
from indexer.crawl.parse import etsy_merchant, etsy_product, shopify_merchant, shopify_product  # noqa: E402
from indexer.models import Merchant, Product  # noqa: E402
from indexer.workspace import Workspace  # noqa: E402

DEFAULT_CATALOGS = REPO.parent / "shared" / "catalogs"
ETSY_API = "https://openapi.etsy.com/v3/application"


def catalog_watermark(catalogs: Path) -> str:
    """Hash of every catalog file's relative path, size and mtime: changes when any file does."""
    h = hashlib.sha256()
    for path in sorted(p for p in catalogs.rglob("*.json") if p.is_file()):
        st = path.stat()
        h.update(f"{path.relative_to(catalogs)}|{st.st_size}|{st.st_mtime_ns}\n".encode())
    return "shared:" + h.hexdigest()[:16]


def _iso_mtime(path: Path) -> str:
    return datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat(timespec="seconds")


def parse_shared_catalogs(catalogs: Path = DEFAULT_CATALOGS) -> tuple[list[Merchant], list[Product], dict[str, str]]:
    """Merchants, products and crawled_at (file modification time) of every shared catalog."""
    merchants: list[Merchant] = []
    products: list[Product] = []
    crawled_at: dict[str, str] = {}
    for store in sorted((catalogs / "shopify").iterdir()) if (catalogs / "shopify").is_dir() else []:
        meta = json.loads((store / "meta.json").read_text("utf-8"))
        merchant = shopify_merchant(meta, f"https://{meta.get('domain') or store.name + '.example'}")
        merchants.append(merchant)
        when = _iso_mtime(store / "products.json")
        for raw in json.loads((store / "products.json").read_text("utf-8"))["products"]:
            p = shopify_product(raw, merchant)
            if isinstance(p, Product):
                products.append(p)
                crawled_at[p.doc_id] = when
    for shop in sorted((catalogs / "etsy").iterdir()) if (catalogs / "etsy").is_dir() else []:
        merchant = etsy_merchant(json.loads((shop / "shop.json").read_text("utf-8")), ETSY_API)
        merchants.append(merchant)
        when = _iso_mtime(shop / "listings.json")
        for listing in json.loads((shop / "listings.json").read_text("utf-8"))["results"]:
            inv = shop / "inventory" / f"{listing['listing_id']}.json"
            p = etsy_product(listing, json.loads(inv.read_text("utf-8")) if inv.exists() else None, merchant)
            if isinstance(p, Product):
                products.append(p)
                crawled_at[p.doc_id] = when
    return merchants, products, crawled_at


def build_shared_index(home: Path, *, catalogs: Path = DEFAULT_CATALOGS, model: str | None = None,
                       device: str | None = None, full: bool = False, batch_size: int = 64,
                       progress: bool = True, backend: str | None = None) -> BuildReport:
    """Build a snapshot of ``catalogs`` in workspace ``home`` unless the current one already matches.
    ``backend``: the embedding backend (:data:`indexer.build.embed.BACKENDS`; None: the default)."""
    ws = Workspace.resolve(home)
    watermark = catalog_watermark(catalogs)
    backend = backend or kept_backend(ws, model, device)  # as `aisle index`: a home keeps its backend
    name = encoder_name(model, backend, device)
    if not full and unchanged_manifest(ws, name, watermark) is not None:
        version = current_version(ws)
        return BuildReport("unchanged", version, version, name, watermark=watermark,
                           path=str(ws.indexes_dir / str(version)))
    merchants, products, crawled_at = parse_shared_catalogs(catalogs)
    encoder = load_encoder(model, device, lazy=True, backend=backend, cache_dir=onnx_cache_dir(ws))
    with progress_bars("build", progress) as bars:  # a benchmark is a front end: it draws its own bars
        return build_index(products, merchants, ws, encoder=encoder, crawled_at=crawled_at, watermark=watermark,
                           full=full, batch_size=batch_size, progress=bars)


def shared_snapshot(home: Path, **kwargs: object) -> Snapshot:
    """The shared-catalog snapshot in ``home``, built first when missing or stale."""
    build_shared_index(home, **kwargs)  # type: ignore[arg-type]
    return load_current(Workspace.resolve(home))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--home", type=Path, required=True, help="workspace to build in (outside the repo)")
    ap.add_argument("--catalogs", type=Path, default=DEFAULT_CATALOGS)
    ap.add_argument("--model", default=None)
    ap.add_argument("--device", default=None)
    ap.add_argument("--backend", default=None,
                    help="torch, onnx, onnx-int8, openvino or openvino-bf16 (default: the home's current "
                         "snapshot's, else the project's)")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--full", action="store_true")
    args = ap.parse_args()
    start = time.perf_counter()
    report = build_shared_index(args.home, catalogs=args.catalogs, model=args.model, device=args.device,
                                full=args.full, batch_size=args.batch_size, backend=args.backend)
    out = report.to_dict()
    out["wall_seconds"] = round(time.perf_counter() - start, 2)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
