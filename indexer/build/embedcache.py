"""The embedding cache: vectors keyed by (model name, sha256 of the product text). No pickle.

Layout, one folder per model under ``<home>/cache/embeddings/``::

    <model-slug>/000001.npy    float32 (rows, dim), L2-normalised
    <model-slug>/000001.json   {"model", "dim", "rows", "npy_bytes", "hashes": [...]} (row order)

Each build that embeds something appends one shard; the ``.npy`` is written (temp, fsync, rename)
before its ``.json``, and only shards with a matching ``.json`` are read, so a build killed at any
moment leaves at worst an orphan ``.npy`` that the next compaction removes. A damaged or
mismatched shard is skipped with a warning (the cache is an accelerator: a miss re-embeds, never
fails the build). :meth:`EmbeddingCache.compact` rewrites the live vectors into a single shard
when stale rows or shard count grow, so the cache stays proportional to the catalog.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from indexer.fsutil import atomic_write_bytes, fsync_dir

log = logging.getLogger(__name__)

MAX_SHARDS = 8  # compact when more shards than this...
MAX_STALE_RATIO = 1.0  # ...or when stale rows exceed this multiple of live rows


def model_slug(model: str) -> str:
    """A safe folder name for a model name or path (readable prefix + short hash against collisions)."""
    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", model).strip("._")[-60:] or "model"
    return f"{readable}-{hashlib.sha256(model.encode('utf-8')).hexdigest()[:10]}"


class EmbeddingCache:
    """Vectors of one model, looked up by text hash."""

    def __init__(self, root: Path, model: str) -> None:
        self.model = model
        self.dir = root / model_slug(model)
        self._where: dict[str, tuple[int, int]] = {}  # hash -> (shard number, row)
        self._arrays: dict[int, np.ndarray] = {}
        self._rows_total = 0
        self.dim: int | None = None
        self._scan()

    def _scan(self) -> None:
        if not self.dir.is_dir():
            return
        for meta_path in sorted(self.dir.glob("[0-9]*.json")):
            number = int(meta_path.stem)
            try:
                meta = json.loads(meta_path.read_text("utf-8"))
                npy = meta_path.with_suffix(".npy")
                if meta.get("model") != self.model or npy.stat().st_size != meta["npy_bytes"]:
                    raise ValueError("model or size mismatch")
                arr = np.load(npy, mmap_mode="r", allow_pickle=False)
                hashes = meta["hashes"]
                if arr.dtype != np.float32 or arr.ndim != 2 or arr.shape[0] != len(hashes):
                    raise ValueError(f"bad array {arr.dtype} {arr.shape}")
                if self.dim is not None and arr.shape[1] != self.dim:
                    raise ValueError(f"dimension {arr.shape[1]} != {self.dim}")
            except (OSError, ValueError, KeyError, TypeError) as exc:
                log.warning("embedding cache: skipping damaged shard %s: %s", meta_path, exc)
                continue
            self.dim = int(arr.shape[1])
            self._arrays[number] = arr
            self._rows_total += len(hashes)
            for row, h in enumerate(hashes):
                self._where[h] = (number, row)

    def __len__(self) -> int:
        return len(self._where)

    def __contains__(self, text_hash: object) -> bool:
        return text_hash in self._where

    def lookup(self, hashes: Iterable[str], dim: int | None = None) -> dict[str, np.ndarray]:
        """Cached vectors for the hashes found (copies, float32). ``dim`` given: a cache of another
        dimension (model changed behind the same name) counts as empty."""
        if dim is not None and self.dim is not None and dim != self.dim:
            log.warning("embedding cache %s has dimension %s, encoder %s: ignoring it", self.dir, self.dim, dim)
            return {}
        out: dict[str, np.ndarray] = {}
        for h in hashes:
            where = self._where.get(h)
            if where is not None:
                out[h] = np.array(self._arrays[where[0]][where[1]], dtype=np.float32)
        return out

    def _next_number(self) -> int:
        numbers = [int(p.stem) for p in self.dir.glob("[0-9]*.*") if p.stem.isdigit()]
        return max(numbers, default=0) + 1

    def put(self, hashes: Sequence[str], vectors: np.ndarray) -> None:
        """Append one shard holding ``vectors`` (row i is the vector of ``hashes[i]``)."""
        if len(hashes) == 0:
            return
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[0] != len(hashes):
            raise ValueError(f"{len(hashes)} hashes for vectors of shape {vectors.shape}")
        if self.dim is not None and vectors.shape[1] != self.dim:
            # The model behind this name changed dimension: the old shards are useless.
            self._drop_all()
        self.dir.mkdir(parents=True, exist_ok=True)
        number = self._next_number()
        npy = self.dir / f"{number:06d}.npy"
        import io

        buf = io.BytesIO()
        np.save(buf, vectors, allow_pickle=False)
        data = buf.getvalue()
        atomic_write_bytes(npy, data)
        meta = {"model": self.model, "dim": int(vectors.shape[1]), "rows": len(hashes),
                "npy_bytes": len(data), "hashes": list(hashes)}
        atomic_write_bytes(npy.with_suffix(".json"), json.dumps(meta).encode("utf-8"))
        fsync_dir(self.dir)
        self.dim = int(vectors.shape[1])
        self._arrays[number] = np.load(npy, mmap_mode="r", allow_pickle=False)
        self._rows_total += len(hashes)
        for row, h in enumerate(hashes):
            self._where[h] = (number, row)

    def _drop_all(self) -> None:
        for p in list(self.dir.glob("[0-9]*.*")):
            p.unlink(missing_ok=True)
        self._where.clear()
        self._arrays.clear()
        self._rows_total = 0
        self.dim = None

    def compact(self, live: Iterable[str]) -> bool:
        """Rewrite the ``live`` vectors into one shard when the cache has grown stale; True if it did.

        Vectors of texts that are no longer in the catalog are dropped; an edit that reverts a product
        to an older text then re-embeds it, which is the price of a bounded cache.
        """
        live_hashes = [h for h in dict.fromkeys(live) if h in self._where]
        stale = self._rows_total - len(live_hashes)
        on_disk = list(self.dir.glob("[0-9]*.npy")) if self.dir.is_dir() else []
        orphans = [p for p in on_disk if int(p.stem) not in self._arrays]
        if len(self._arrays) <= MAX_SHARDS and stale <= MAX_STALE_RATIO * max(len(live_hashes), 1) and not orphans:
            return False
        old = {p for p in self.dir.glob("[0-9]*.*")}
        vectors = self.lookup(live_hashes)
        self._where.clear()
        self._arrays.clear()
        self._rows_total = 0
        if live_hashes:
            self.put(live_hashes, np.stack([vectors[h] for h in live_hashes]))
        keep = {p for p in self.dir.glob("[0-9]*.*")} - old
        for p in sorted(old - keep, key=lambda p: p.suffix != ".json"):  # metadata first: never a .json without .npy
            p.unlink(missing_ok=True)
        fsync_dir(self.dir)
        return True


def cache_for(cache_root: Path, model: str) -> EmbeddingCache:
    """The cache of ``model`` under ``cache_root`` (``Workspace.embedding_cache_dir``)."""
    return EmbeddingCache(Path(os.fspath(cache_root)), model)
