"""A settable clock for :class:`indexer.store.store.Store` (``clock=``): tests move time instead of sleeping."""

from __future__ import annotations

from datetime import datetime, timedelta


class FakeClock:
    """Naive-UTC now that only moves when told to (:meth:`advance`)."""

    def __init__(self, start: datetime = datetime(2026, 1, 1, 12, 0, 0)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float = 1.0) -> None:
        """Move the clock forward by ``seconds``."""
        self.now += timedelta(seconds=seconds)
