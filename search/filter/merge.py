"""Array merges by row: the filter columns of a new snapshot version from the previous version's, for the rows whose
record did not change, plus the few rows built afresh (:func:`search.filter.columns.merge_columns`).

Every helper returns exactly the arrays a pass over the whole catalog would (same order, dtypes, keys): a key left
with no row disappears, ids stay sorted, currencies keep their order of first appearance.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


def ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """``concatenate([arange(s, s + c) for s, c in zip(starts, counts)])`` without a Python loop."""
    counts = np.asarray(counts, dtype=np.int64)
    starts = np.asarray(starts, dtype=np.int64)
    return np.arange(int(counts.sum()), dtype=np.int64) + np.repeat(starts - (np.cumsum(counts) - counts), counts)


class RowMap:
    """Where the old rows (or variants) and the fresh ones go: ``old[i]`` the new index of old ``i`` (-1: gone),
    ``fresh[j]`` the new index of fresh ``j``."""

    def __init__(self, old: np.ndarray, fresh: np.ndarray, n: int) -> None:
        self.old, self.fresh, self.n = old, fresh, n

    def gather(self, old: np.ndarray, fresh: np.ndarray, dtype: object) -> np.ndarray:
        """One array of the new rows from the old rows' values and the fresh ones'."""
        out = np.zeros(self.n, dtype=dtype)  # type: ignore[call-overload]
        kept = self.old >= 0
        out[self.old[kept]] = np.asarray(old)[kept]
        out[self.fresh] = fresh
        return out


def merge_csr(old: tuple[list[str], np.ndarray, np.ndarray], fresh: Mapping[str, np.ndarray],
              where: RowMap) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Postings ``key -> sorted ids`` of the new version: the old CSR's ids moved by ``where.old`` (gone ones
    dropped), the fresh mapping's ids moved by ``where.fresh``; keys with no id left are dropped."""
    keys_old, indptr, indices = old
    fresh_keys = list(fresh)
    union = sorted(set(keys_old).union(fresh_keys), key=lambda k: k.encode("utf-8"))
    at = {k: i for i, k in enumerate(union)}
    key_old = np.repeat(np.asarray([at[k] for k in keys_old], dtype=np.int64), np.diff(np.asarray(indptr)))
    ids_old = where.old[np.asarray(indices, dtype=np.int64)] if len(indices) else np.zeros(0, dtype=np.int64)
    keep = ids_old >= 0
    lists = [np.asarray(fresh[k], dtype=np.int64) for k in fresh_keys]
    key_new = np.repeat(np.asarray([at[k] for k in fresh_keys], dtype=np.int64), [len(v) for v in lists])
    ids_new = where.fresh[np.concatenate(lists)] if lists else np.zeros(0, dtype=np.int64)
    key = np.concatenate([key_old[keep], key_new])
    ids = np.concatenate([ids_old[keep], ids_new])
    order = np.lexsort((ids, key))
    counts = np.bincount(key, minlength=len(union))
    used = counts > 0
    out_indptr = np.zeros(int(used.sum()) + 1, dtype=np.int64)
    out_indptr[1:] = np.cumsum(counts[used])
    return [k for k, u in zip(union, used.tolist(), strict=True) if u], out_indptr, ids[order]


def merge_token_rows(old: tuple[np.ndarray, np.ndarray], old_vocab: Sequence[str], kept_old: np.ndarray,
                     kept_new: np.ndarray, fresh_rows: np.ndarray, fresh_tokens: Sequence[Sequence[str]],
                     vocab: Sequence[str], n: int) -> tuple[np.ndarray, np.ndarray]:
    """``(indptr, ids)`` of every new row's tokens over the new ``vocab``: kept rows' ids renumbered from
    ``old_vocab``, fresh rows' tokens encoded."""
    indptr_old, ids_old = np.asarray(old[0]), old[1]
    at = {t: i for i, t in enumerate(vocab)}
    renumber = np.fromiter((at.get(t, -1) for t in old_vocab), dtype=np.int64, count=len(old_vocab))
    lengths = np.zeros(n, dtype=np.int64)
    kept_len = np.diff(indptr_old)[kept_old]
    lengths[kept_new] = kept_len
    lengths[fresh_rows] = [len(t) for t in fresh_tokens]
    indptr = np.zeros(n + 1, dtype=np.int64)
    indptr[1:] = np.cumsum(lengths)
    ids = np.zeros(int(indptr[-1]), dtype=np.int32)
    ids[ranges(indptr[kept_new], kept_len)] = renumber[np.asarray(ids_old)[ranges(indptr_old[kept_old], kept_len)]]
    flat = [at[t] for toks in fresh_tokens for t in toks]
    ids[ranges(indptr[fresh_rows], lengths[fresh_rows])] = np.asarray(flat, dtype=np.int64)
    return indptr, ids


def merge_multi(old: tuple[np.ndarray, np.ndarray], fresh: Mapping[str, Sequence[int]],
                where: RowMap) -> tuple[np.ndarray, np.ndarray]:
    """``(keys, values)`` of a :class:`search.filter.csr.MultiLookup` (``id -> [variant indices]``) of the new
    version, values moved by ``where``; keys as wide as the longest one left, sorted by (key, value)."""
    keys_old, values_old = old
    moved = where.old[np.asarray(values_old, dtype=np.int64)] if len(values_old) else np.zeros(0, dtype=np.int64)
    keep = moved >= 0
    pairs = sorted((k.encode("utf-8"), int(v)) for k, vs in fresh.items() for v in vs)
    fresh_keys = [k for k, _ in pairs]
    fresh_vals = where.fresh[np.asarray([v for _, v in pairs], dtype=np.int64)] if pairs else np.zeros(0, np.int64)
    raw = [bytes(k) for k in np.asarray(keys_old)[keep]] + fresh_keys
    if not raw:
        return np.zeros(0, dtype="S1"), np.zeros(0, dtype=np.int64)
    keys = np.array(raw, dtype=bytes)
    values = np.concatenate([moved[keep], fresh_vals])
    order = np.lexsort((values, keys))
    return keys[order], values[order]


def first_seen(codes: np.ndarray, n_codes: int) -> tuple[np.ndarray, np.ndarray]:
    """``(order, renumbered)``: the codes in their order of first appearance, and ``codes`` renumbered by it."""
    if not len(codes):
        return np.zeros(0, dtype=np.int64), codes.astype(np.int32)
    uniq, first = np.unique(codes, return_index=True)
    order = uniq[np.argsort(first, kind="stable")]
    rank = np.full(n_codes, -1, dtype=np.int64)
    rank[order] = np.arange(len(order))
    return order, rank[codes].astype(np.int32)
