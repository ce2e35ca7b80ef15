"""Snapshot shards: a built snapshot's products partitioned by merchant into N index shards.

``aisle index --shards N`` builds the usual snapshot, then writes its shards under
``<home>/shards/<version>/shard-<k>/`` (:func:`write_shards`); ``aisle serve --ray`` serves one Ray actor
per shard (:mod:`search.retrieval.shards`, :mod:`search.serve.ray_shards`).

* **Partition** (:func:`partition`): a merchant never spans shards, so a merchant-scoped filter reaches one
  shard. Merchants go, largest first, to the shard holding the fewest products (ties: merchant id, then the
  lowest shard), which balances the shards to within one merchant's size.
* **Rows**: shard ``k`` holds the snapshot rows ``rows.npy`` (sorted, int64) in the same relative order, so a
  tie broken "by row" inside a shard breaks the same way as in the whole snapshot.
* **Global statistics**: each shard's BM25 is :meth:`LexicalIndex.subset` of the whole index, i.e. every
  stored score carries the whole catalog's IDF and average document length. Shard scores therefore equal the
  single snapshot's, bit for bit, and merging per-shard top-k lists gives the global top-k.
* **Dense**: the shard's rows of ``vectors.npy`` and its own FAISS index (:func:`build_dense`: exact up to
  ``EXACT_MAX_ROWS`` rows per shard, IVF above, as for a whole snapshot).

Each shard has a ``shard.json`` (shard number, shard count, snapshot version, model, dim, product and
merchant counts, dense parameters). Shards are written beside the snapshot, never into it (a snapshot is
immutable and hash-verified), to a temporary folder renamed into place.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from indexer.build.dense import build_dense, write_dense
from indexer.errors import ConfigError
from indexer.models import Product

SHARD_FILE = "shard.json"


def partition(products: Sequence[Product], n: int) -> list[np.ndarray]:
    """Rows of ``products`` per shard (``n`` sorted int64 arrays); one merchant's rows are all in one shard."""
    if n < 1:
        raise ConfigError(f"the shard count must be at least 1, got {n}")
    by_merchant: dict[str, list[int]] = {}
    for row, p in enumerate(products):
        by_merchant.setdefault(p.merchant_id, []).append(row)
    sizes = [0] * n
    parts: list[list[int]] = [[] for _ in range(n)]
    for mid in sorted(by_merchant, key=lambda m: (-len(by_merchant[m]), m)):
        k = min(range(n), key=lambda i: (sizes[i], i))
        parts[k].extend(by_merchant[mid])
        sizes[k] += len(by_merchant[mid])
    return [np.asarray(sorted(p), dtype=np.int64) for p in parts]


def shards_dir(home: Path, version: str) -> Path:
    """Where the shards of snapshot ``version`` live: ``<home>/shards/<version>``."""
    return Path(home) / "shards" / version


def write_shards(snapshot: Any, n: int, out: Path) -> list[Path]:
    """Write ``snapshot``'s ``n`` shards under ``out`` (replaced if present); returns the shard folders."""
    parts = partition(snapshot.products, n)
    out = Path(out)
    tmp = out.with_name(f".tmp-{out.name}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for k, rows in enumerate(parts):
        d = tmp / f"shard-{k}"
        d.mkdir()
        vectors = np.ascontiguousarray(np.asarray(snapshot.vectors)[rows], dtype=np.float32)
        if vectors.ndim != 2:
            vectors = vectors.reshape(0, int(snapshot.vectors.shape[1]))
        np.save(d / "rows.npy", rows, allow_pickle=False)
        np.save(d / "vectors.npy", vectors, allow_pickle=False)
        index, params = build_dense(vectors)
        write_dense(index, str(d / "dense.faiss"))
        snapshot.lexical.subset(rows).save(d / "lexical")
        merchants = sorted({snapshot.products[int(r)].merchant_id for r in rows})
        info = {"shard": k, "shards": n, "version": snapshot.version, "model": str(snapshot.manifest.get("model", "")),
                "dim": int(snapshot.vectors.shape[1]), "products": len(rows), "total_products": len(snapshot.products),
                "merchants": merchants, "dense": params}
        (d / SHARD_FILE).write_text(json.dumps(info, indent=1), "utf-8")
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return [out / f"shard-{k}" for k in range(n)]


def shard_paths(folder: Path) -> list[Path]:
    """The shard folders under ``folder`` in shard order (ConfigError when there are none)."""
    found = sorted((p for p in Path(folder).glob("shard-*") if (p / SHARD_FILE).is_file()),
                   key=lambda p: int(p.name.split("-", 1)[1]))
    if not found:
        raise ConfigError(f"no index shards in {folder} (build them with `aisle index --shards N`)")
    return found


def shard_workspace(workspace: Any, n: int) -> list[Path]:
    """Write the ``n`` shards of ``workspace``'s current snapshot (kept when already written with ``n`` shards)."""
    from indexer.build.snapshot import load_current

    snapshot = load_current(workspace)
    out = shards_dir(workspace.home, snapshot.version)
    try:
        found = shard_paths(out)
    except ConfigError:
        found = []
    if len(found) == n:
        return found
    return write_shards(snapshot, n, out)
