"""A per-merchant budget of live reads shared by every re-check call of one engine.

The per-call caps of :mod:`search.checkout.live` bound one call; many calls in parallel (or in a loop) could still
make a merchant answer without end with the operator's key. :class:`MerchantRate` allows at most
``limit`` product reads per merchant in any ``window_s`` seconds (a sliding window), across calls; a read
past it is not made (the item is ``not_checked``). Thread-safe.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class MerchantRate:
    """Sliding-window counter of live reads per merchant id (see the module docstring)."""

    def __init__(self, limit: int, window_s: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window_s, self._clock = limit, window_s, clock
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def take(self, merchant_id: str) -> bool:
        """Count one read for ``merchant_id`` and return True, or return False when its budget is spent."""
        now = self._clock()
        with self._lock:
            times = self._seen.setdefault(merchant_id, deque())
            while times and times[0] <= now - self.window_s:
                times.popleft()
            if len(times) >= self.limit:
                return False
            times.append(now)
            return True
