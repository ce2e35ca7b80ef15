"""A small cache of things derived from one object, keyed by that object's identity.

Per-snapshot structures (the compiled vocabulary, the speller, the catalog's product-kind nouns) are built on
first use and reused while the snapshot is alive. Each entry holds the key object itself, so its ``id`` cannot be
reused by another object while cached; the oldest entry goes when the cache is full (a server holds one or two
snapshots at a time).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

V = TypeVar("V")


class IdentityCache(Generic[V]):
    """``get(obj, build)``: ``build(obj)`` once per live object, at most ``size`` objects kept."""

    def __init__(self, size: int = 4) -> None:
        self.size = size
        self._entries: dict[int, tuple[object, V]] = {}
        self._lock = threading.Lock()

    def get(self, obj: object, build: Callable[[], V]) -> V:
        """The value derived from ``obj``, built by ``build()`` when missing."""
        hit = self._entries.get(id(obj))
        if hit is not None and hit[0] is obj:
            return hit[1]
        value = build()  # outside the lock: building may take a second; a race builds twice, harmlessly
        self.put(obj, value)
        return value

    def put(self, obj: object, value: V) -> None:
        """Remember ``value`` for ``obj`` (e.g. read from disk rather than built)."""
        with self._lock:
            if len(self._entries) >= self.size:
                self._entries.pop(next(iter(self._entries)))
            self._entries[id(obj)] = (obj, value)
