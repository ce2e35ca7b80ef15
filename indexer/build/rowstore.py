"""The memory-mapped side of a snapshot (format 2): products read lazily by row, doc ids found by a sorted lookup.

Files beside ``products.jsonl`` (one ``Product.to_dict()`` JSON object per line, row order)::

    products.offsets.npy   int64 (N+1,): byte offset of each row's line in products.jsonl (last = file size)
    ids.sorted.npy         bytes (N,): every doc_id, UTF-8, sorted
    ids.rows.npy           int64 (N,): the row of each sorted doc_id

All three are opened with ``numpy.load(mmap_mode="r")`` and products.jsonl is read with ``pread``, so opening a
snapshot reads no product: :class:`ProductRows` decodes a row when it is asked for (the results
shown, a product looked up) and keeps the most recent rows decoded; :class:`SortedIds` answers ``doc_id ->
row`` by binary search instead of a dict of every id. Resident memory is what the pages touched cost.
"""

from __future__ import annotations

import json
import os
import weakref
from collections.abc import Iterator, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, overload

import numpy as np

from indexer.models import Product

OFFSETS, IDS_SORTED, IDS_ROWS = "products.offsets.npy", "ids.sorted.npy", "ids.rows.npy"
ROW_CACHE = 4096  # decoded products kept (a page of results, its near matches, a cart)


def _load(path: Path) -> np.ndarray:
    # a plain ndarray view of the map: numpy.memmap's Python-level indexing costs microseconds per row read
    return np.load(path, mmap_mode="r", allow_pickle=False).view(np.ndarray)


def sorted_ids(ids: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """``(keys, rows)``: the UTF-8 ids sorted, and the position in ``ids`` of each."""
    raw = np.array([i.encode("utf-8") for i in ids], dtype=bytes) if ids else np.zeros(0, dtype="S1")
    order = np.argsort(raw, kind="stable")
    return raw[order], order.astype(np.int64)


def row_line(p: Product) -> bytes:
    """One product as its line of ``products.jsonl`` (UTF-8 JSON, compact, newline-terminated)."""
    return json.dumps(p.to_dict(), ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"


def read_idmap(folder: Path) -> dict[str, str]:
    """doc_id -> text sha256 of the snapshot in ``folder`` (its ``idmap.json``; empty when unreadable)."""
    try:
        d = json.loads((folder / "idmap.json").read_text("utf-8"))
        return dict(zip(d["doc_ids"], d["text_sha256"], strict=True))
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def write_rows(folder: Path, offsets: Sequence[int], ids: Sequence[str]) -> list[Path]:
    """Write the offset and id files of a snapshot into ``folder``; returns them (the caller fsyncs)."""
    keys, rows = sorted_ids(ids)
    out = []
    for name, arr in ((OFFSETS, np.asarray(offsets, dtype=np.int64)), (IDS_SORTED, keys), (IDS_ROWS, rows)):
        with open(folder / name, "wb") as fh:
            np.save(fh, arr, allow_pickle=False)
        out.append(folder / name)
    return out


class ProductRows(Sequence[Product]):
    """Products of ``products.jsonl`` by row, decoded on demand (thread-safe; an LRU keeps recent rows)."""

    def __init__(self, jsonl: Path, offsets: np.ndarray) -> None:
        self._offsets = offsets
        n = len(offsets) - 1
        size = int(offsets[-1]) if n >= 0 and len(offsets) else 0
        # pread, not a memory map: a row is read exactly, without the read-ahead of its neighbours that a
        # mapping would fault in and count as this process's resident memory
        self._fd = os.open(jsonl, os.O_RDONLY)
        self._close = weakref.finalize(self, os.close, self._fd)
        if os.fstat(self._fd).st_size != size:
            raise ValueError(f"products.jsonl has {os.fstat(self._fd).st_size} bytes, the offsets end at {size}")
        self._n = max(n, 0)
        self._row = lru_cache(maxsize=ROW_CACHE)(self._decode)

    @classmethod
    def open(cls, folder: Path) -> ProductRows:
        """The rows of the snapshot in ``folder`` (OSError/ValueError when files are missing or disagree)."""
        return cls(folder / "products.jsonl", _load(folder / OFFSETS))

    def _decode(self, i: int) -> Product:
        a, b = int(self._offsets[i]), int(self._offsets[i + 1])
        return Product.from_dict(json.loads(os.pread(self._fd, b - a, a)))

    def __len__(self) -> int:
        return self._n

    @overload
    def __getitem__(self, i: int) -> Product: ...

    @overload
    def __getitem__(self, i: slice) -> list[Product]: ...

    def __getitem__(self, i: int | slice) -> Product | list[Product]:
        if isinstance(i, slice):
            return [self._row(j) for j in range(*i.indices(self._n))]
        j = int(i)
        if j < 0:
            j += self._n
        if not 0 <= j < self._n:
            raise IndexError(f"row {i} out of range ({self._n} products)")
        return self._row(j)

    def __iter__(self) -> Iterator[Product]:  # a full pass: decode without filling the LRU
        for j in range(self._n):
            yield self._decode(j)


class SortedIds(Mapping[str, int]):
    """``doc_id -> row`` by binary search over sorted UTF-8 ids (no dict of every id)."""

    def __init__(self, keys: np.ndarray, rows: np.ndarray) -> None:
        if keys.shape != rows.shape:
            raise ValueError(f"{keys.shape[0]} sorted ids but {rows.shape[0]} rows")
        self._keys, self._rows = keys, rows

    @classmethod
    def open(cls, folder: Path) -> SortedIds:
        """The id lookup of the snapshot in ``folder``."""
        return cls(_load(folder / IDS_SORTED), _load(folder / IDS_ROWS))

    def get(self, key: Any, default: Any = None) -> Any:
        if not isinstance(key, str) or not len(self._keys):
            return default
        raw = key.encode("utf-8")
        if len(raw) > self._keys.dtype.itemsize or raw.endswith(b"\x00"):
            return default  # longer than every stored id (numpy would compare a truncated key)
        i = int(np.searchsorted(self._keys, raw))
        if i < len(self._keys) and self._keys[i] == raw:
            return int(self._rows[i])
        return default

    def __getitem__(self, key: str) -> int:
        row = self.get(key)
        if row is None:
            raise KeyError(key)
        return int(row)

    def __contains__(self, key: object) -> bool:
        return self.get(key) is not None

    def __len__(self) -> int:
        return int(self._keys.shape[0])

    def __iter__(self) -> Iterator[str]:
        return (bytes(k).decode("utf-8") for k in self._keys)

    def in_row_order(self) -> list[str]:
        """Every doc_id, row 0 first (decoded from the sorted ids; no product is read)."""
        return [bytes(k).decode("utf-8") for k in self._keys[np.argsort(self._rows, kind="stable")]]


class LazyJson(Mapping[str, str]):
    """A ``{str: str}`` JSON file read on first use (``crawled_at``: only a snapshot without columns needs it)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._data: dict[str, str] | None = None

    def _get(self) -> dict[str, str]:
        if self._data is None:
            raw = json.loads(self._path.read_text("utf-8"))
            self._data = {str(k): str(v) for k, v in raw.items()}
        return self._data

    def __getitem__(self, key: str) -> str:
        return self._get()[key]

    def __len__(self) -> int:
        return len(self._get())

    def __iter__(self) -> Iterator[str]:
        return iter(self._get())
