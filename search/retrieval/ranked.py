"""A ranked list of rows (best first, with scores) and the exact top-k with a deterministic tie-break."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class Ranked:
    """Rows best first with their scores (same length)."""

    rows: np.ndarray  # int64
    scores: np.ndarray  # float32

    def __len__(self) -> int:
        return int(self.rows.shape[0])

    @classmethod
    def empty(cls) -> Ranked:
        return cls(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))


def top(rows: np.ndarray, scores: np.ndarray, k: int) -> Ranked:
    """Best ``k`` of (rows, scores), ties by row."""
    if len(rows) > k:
        part = np.argpartition(-scores, k - 1)[:k]
        kth = scores[part].min()
        keep = scores >= kth  # keep every tie of the k-th so the tie-break is exact
        rows, scores = rows[keep], scores[keep]
    order = np.lexsort((rows, -scores))[:k]
    return Ranked(rows[order].astype(np.int64), scores[order].astype(np.float32))
