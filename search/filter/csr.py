"""Read-only lookups over memory-mapped arrays: what :mod:`search.filter.columns` opens instead of dicts.

* :class:`SortedStrings` — strings as one UTF-8 blob plus offsets, sorted by their bytes; ``strings[i]`` decodes
  one, ``find`` looks one up. Any string works (no fixed width, a NUL is an ordinary character).
* :class:`Postings` — ``key -> sorted int64 ids`` as CSR (keys, ``indptr``, ``indices``): the mapping the
  in-memory :class:`search.filter.catalog.CatalogArrays` keeps as a dict of arrays.
* :class:`TokenRows` — each product's tokens as token ids (CSR over a :class:`SortedStrings` vocabulary),
  read back as the token tuple a row had, or matched against a phrase without decoding.
* :class:`MultiLookup` — ``variant_id -> [variant indices]`` by ``numpy.searchsorted`` over sorted ids.

Every array may be a read-only memory map; nothing here copies more than the rows asked for.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np


def save_arrays(folder: Path, name: str, **arrays: np.ndarray) -> list[Path]:
    """Write ``<name>.<key>.npy`` for every array (no pickle); returns the paths."""
    out = []
    for key, arr in arrays.items():
        path = folder / f"{name}.{key}.npy"
        with open(path, "wb") as fh:
            np.save(fh, np.ascontiguousarray(arr), allow_pickle=False)
        out.append(path)
    return out


def load_array(folder: Path, name: str, key: str) -> np.ndarray:
    """``<name>.<key>.npy`` as a read-only memory map, seen as a plain ndarray (its ``base`` is the map).

    Why the plain view: ``numpy.memmap`` indexes through Python (``__getitem__``, ``__array_finalize__``), a few
    microseconds per access, and a search reads these arrays element by element thousands of times (variant
    spans, token rows); the view reads the same mapped pages at ndarray speed (profile in docs/benchmarks.md,
    "Query latency with the ONNX query encoder")."""
    return np.load(folder / f"{name}.{key}.npy", mmap_mode="r", allow_pickle=False).view(np.ndarray)


class SortedStrings(Sequence[str]):
    """Sorted (by UTF-8 bytes) distinct strings: ``blob[off[i]:off[i+1]]`` is string i."""

    def __init__(self, blob: np.ndarray, offsets: np.ndarray) -> None:
        self._blob, self._off = blob, offsets
        self._index: dict[str, int] | None = None  # key -> position, made on the first look-up

    @staticmethod
    def encode(strings: Sequence[str]) -> tuple[list[str], np.ndarray, np.ndarray]:
        """``(sorted strings, blob uint8, offsets int64)`` for :meth:`save`."""
        raw = sorted({s.encode("utf-8") for s in strings})
        off = np.zeros(len(raw) + 1, dtype=np.int64)
        off[1:] = np.cumsum([len(r) for r in raw], dtype=np.int64) if raw else []
        blob = np.frombuffer(b"".join(raw), dtype=np.uint8) if raw else np.zeros(0, dtype=np.uint8)
        return [r.decode("utf-8") for r in raw], blob, off

    @classmethod
    def load(cls, folder: Path, name: str) -> SortedStrings:
        """Open what :func:`save_arrays` wrote as ``<name>.blob`` / ``<name>.off``."""
        return cls(load_array(folder, name, "blob"), load_array(folder, name, "off"))

    def _raw(self, i: int) -> bytes:
        return self._blob[int(self._off[i]) : int(self._off[i + 1])].tobytes()

    def __len__(self) -> int:
        return int(self._off.shape[0]) - 1

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self._raw(j).decode("utf-8") for j in range(*i.indices(len(self)))]
        return self._raw(int(i)).decode("utf-8")

    def find(self, key: str) -> int:
        """Index of ``key``, -1 when absent.

        The keys are a vocabulary (tokens, attribute values, merchants: not one per product), so the first
        look-up decodes them once into a dict: a binary search in Python cost ~30 µs a key, and a filter on
        100 merchants looks up 100 keys per query.
        """
        index = self._index
        if index is None:
            text = self._blob.tobytes()
            off = self._off.tolist()
            index = self._index = {text[a:b].decode("utf-8"): i
                                   for i, (a, b) in enumerate(zip(off[:-1], off[1:], strict=True))}
        return index.get(key, -1)


def save_postings(folder: Path, name: str, postings: Mapping[str, Sequence[int] | np.ndarray]) -> list[Path]:
    """Write a ``key -> sorted ids`` mapping as CSR arrays (ids int32 when they fit)."""
    keys = sorted(postings, key=lambda k: k.encode("utf-8"))
    lists = [np.asarray(postings[k], dtype=np.int64) for k in keys]
    indptr = np.zeros(len(keys) + 1, dtype=np.int64)
    indptr[1:] = np.cumsum([len(v) for v in lists], dtype=np.int64) if lists else []
    flat = np.concatenate(lists) if lists else np.zeros(0, dtype=np.int64)
    return save_csr(folder, name, keys, indptr, flat)


def save_csr(folder: Path, name: str, keys: Sequence[str], indptr: np.ndarray, indices: np.ndarray) -> list[Path]:
    """Write postings already in CSR form (``keys`` distinct, sorted by UTF-8 bytes); ids int32 when they fit."""
    _, blob, off = SortedStrings.encode(keys)
    flat = np.asarray(indices, dtype=np.int64)
    small = not flat.size or int(flat.max()) < 2**31 - 1
    return save_arrays(folder, name, blob=blob, off=off, indptr=np.asarray(indptr, dtype=np.int64),
                       indices=flat.astype(np.int32) if small else flat)


class Postings(Mapping[str, np.ndarray]):
    """``key -> sorted int64 ids`` over CSR arrays written by :func:`save_postings`."""

    def __init__(self, keys: SortedStrings, indptr: np.ndarray, indices: np.ndarray) -> None:
        self.keys_sorted, self._indptr, self._indices = keys, indptr, indices

    @classmethod
    def load(cls, folder: Path, name: str) -> Postings:
        """Open the postings saved as ``name``."""
        return cls(SortedStrings.load(folder, name), load_array(folder, name, "indptr"),
                   load_array(folder, name, "indices"))

    def csr(self) -> tuple[list[str], np.ndarray, np.ndarray]:
        """``(keys, indptr, indices)``: every key decoded, the arrays as stored."""
        return self.keys_sorted[:], self._indptr, self._indices

    def at(self, i: int) -> np.ndarray:
        """The ids of key number ``i`` (int64, a copy of that slice only)."""
        return np.asarray(self._indices[int(self._indptr[i]) : int(self._indptr[i + 1])], dtype=np.int64)

    def get(self, key: Any, default: Any = None) -> Any:
        i = self.keys_sorted.find(key) if isinstance(key, str) else -1
        return self.at(i) if i >= 0 else default

    def __getitem__(self, key: str) -> np.ndarray:
        got = self.get(key)
        if got is None:
            raise KeyError(key)
        return got  # type: ignore[no-any-return]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.keys_sorted.find(key) >= 0

    def __len__(self) -> int:
        return len(self.keys_sorted)

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys_sorted[:])


def save_token_rows(folder: Path, name: str, rows: Sequence[Sequence[str]], vocab: Sequence[str]) -> list[Path]:
    """Each row's tokens as ids into ``vocab`` (sorted, as :class:`SortedStrings` orders it), CSR."""
    index = {t: i for i, t in enumerate(vocab)}
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    indptr[1:] = np.cumsum([len(r) for r in rows], dtype=np.int64) if rows else []
    ids = np.fromiter((index[t] for r in rows for t in r), dtype=np.int32, count=int(indptr[-1]))
    return save_arrays(folder, name, indptr=indptr, ids=ids)


class TokenRows(Sequence[tuple[str, ...]]):
    """Per-product token tuples stored as ids (see :func:`save_token_rows`)."""

    def __init__(self, vocab: SortedStrings, indptr: np.ndarray, ids: np.ndarray) -> None:
        self._vocab, self._indptr, self._ids = vocab, indptr, ids

    @classmethod
    def load(cls, folder: Path, name: str, vocab: SortedStrings) -> TokenRows:
        """Open the rows saved as ``name`` over ``vocab``."""
        return cls(vocab, load_array(folder, name, "indptr"), load_array(folder, name, "ids"))

    def csr(self) -> tuple[np.ndarray, np.ndarray]:
        """``(indptr, ids)`` as stored."""
        return self._indptr, self._ids

    def ids(self, row: int) -> np.ndarray:
        """The token ids of ``row``."""
        return self._ids[int(self._indptr[row]) : int(self._indptr[row + 1])]

    def phrase_ids(self, phrase: Sequence[str]) -> np.ndarray | None:
        """``phrase`` as token ids; None when a word is in no product (then no row contains it)."""
        out = [self._vocab.find(t) for t in phrase]
        return None if any(i < 0 for i in out) else np.asarray(out, dtype=np.int64)

    def contains(self, row: int, phrase: np.ndarray) -> bool:
        """Whether the ids ``phrase`` occur as a contiguous run in ``row`` (as ``contains_phrase`` on tokens)."""
        have, n = self.ids(row), len(phrase)
        if n == 0 or len(have) < n:
            return False
        for i in np.flatnonzero(have[: len(have) - n + 1] == phrase[0]).tolist():
            if np.array_equal(have[i : i + n], phrase):
                return True
        return False

    def rows_containing(self, rows: np.ndarray, phrase: np.ndarray) -> np.ndarray:
        """bool per entry of ``rows``: :meth:`contains` for every row at once (one pass over their token ids,
        no Python loop per row: a phrase filter meets a hundred candidate rows or more)."""
        rows = np.asarray(rows, dtype=np.int64)
        n = len(phrase)
        starts = self._indptr[rows]
        lens = self._indptr[rows + 1] - starts
        total = int(lens.sum())
        if n == 0 or total == 0:
            return np.zeros(rows.size, dtype=bool)
        seg = np.repeat(np.arange(rows.size), lens)
        pos = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(lens) - lens, lens)  # place within its row
        toks = self._ids[np.repeat(starts, lens) + pos]
        ok = (toks == phrase[0]) & (pos <= np.repeat(lens, lens) - n)  # the phrase fits in the row from here
        for j in range(1, n):
            ok[: total - j] &= toks[j:] == phrase[j]
        return np.bincount(seg[ok], minlength=rows.size) > 0

    def __len__(self) -> int:
        return int(self._indptr.shape[0]) - 1

    def __getitem__(self, row: Any) -> Any:
        if isinstance(row, slice):
            return [self[j] for j in range(*row.indices(len(self)))]
        return tuple(self._vocab[int(i)] for i in self.ids(int(row)))


class MultiLookup(Mapping[str, list[int]]):
    """``id -> [values]`` (ascending) by binary search over sorted UTF-8 ids (an id may repeat)."""

    def __init__(self, keys: np.ndarray, values: np.ndarray) -> None:
        self._keys, self._values = keys, values

    @staticmethod
    def arrays(index: Mapping[str, Sequence[int]]) -> dict[str, np.ndarray]:
        """The arrays :func:`save_arrays` writes for ``index`` (keys sorted, values in key order)."""
        pairs = sorted((k.encode("utf-8"), v) for k, vs in index.items() for v in vs)
        keys = np.array([k for k, _ in pairs], dtype=bytes) if pairs else np.zeros(0, dtype="S1")
        return {"keys": keys, "values": np.asarray([v for _, v in pairs], dtype=np.int64)}

    def csr(self) -> tuple[np.ndarray, np.ndarray]:
        """``(keys, values)`` as stored."""
        return self._keys, self._values

    @classmethod
    def load(cls, folder: Path, name: str) -> MultiLookup:
        """Open the lookup saved as ``name``."""
        return cls(load_array(folder, name, "keys"), load_array(folder, name, "values"))

    def get(self, key: Any, default: Any = None) -> Any:
        if not isinstance(key, str) or not len(self._keys):
            return default
        raw = key.encode("utf-8")
        if len(raw) > self._keys.dtype.itemsize or raw.endswith(b"\x00"):
            return default  # numpy would compare a truncated or NUL-padded key
        lo, hi = np.searchsorted(self._keys, raw, "left"), np.searchsorted(self._keys, raw, "right")
        return [int(v) for v in self._values[lo:hi]] if hi > lo else default

    def __getitem__(self, key: str) -> list[int]:
        got = self.get(key)
        if got is None:
            raise KeyError(key)
        return got  # type: ignore[no-any-return]

    def __len__(self) -> int:
        return len({bytes(k) for k in self._keys})

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys(bytes(k).decode("utf-8") for k in self._keys))
