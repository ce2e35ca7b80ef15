"""Etsy's daily request budget (10,000 a day per API key by default), kept by the crawler itself.

Etsy answers a key past its day with 429 and a ``retry-after`` of hours; waiting that out inside a crawl is
useless, so the crawl counts its own requests instead and stops a shop *before* the budget is spent:

* :class:`DailyBudget` persists ``{day (UTC), keystring, used, resume: {shop_id: offset}}`` in
  ``<workspace>/etsy/budget.json`` (the keystring only, never the shared secret). Every Etsy request of a
  crawl takes one unit (:meth:`take`); retries inside the HTTP client are not seen and so not counted, which
  is why the default leaves a margin (:data:`DEFAULT_PER_DAY` = 9,500 of Etsy's 10,000).
* When a unit is refused the shop's walk stops cleanly with the error ``etsy_daily_budget`` (the crawl is
  incomplete, so nothing is marked removed), and the listings offset it reached is remembered; the next
  crawl of that shop — the next UTC day, or with a larger budget — resumes from there. A resumed walk
  does not cover the listings before its offset, so it too is reported incomplete; the walk after it starts
  from 0 again.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from indexer.errors import AisleError
from indexer.fsutil import atomic_write_bytes

DEFAULT_PER_DAY = 9_500


class BudgetExhausted(AisleError):
    """The day's Etsy request budget is spent: the shop's crawl stops and resumes on the next crawl."""

    code = "etsy_daily_budget"
    exit_code = 3
    http_status = 429


def _today() -> str:
    return time.strftime("%Y-%m-%d", time.gmtime())


class DailyBudget:
    """Requests left today for one key in one workspace (thread- and coroutine-safe within a process)."""

    def __init__(self, home: Path | None, api_key: str, per_day: int = DEFAULT_PER_DAY) -> None:
        self.path = Path(home) / "etsy" / "budget.json" if home is not None else None
        self.key, self.per_day = api_key.split(":", 1)[0], per_day
        self._lock = threading.Lock()
        self._state = self._load()

    def _load(self) -> dict[str, object]:
        state: dict[str, object] = {}
        if self.path is not None:
            try:
                loaded = json.loads(self.path.read_text("utf-8"))
                state = loaded if isinstance(loaded, dict) else {}
            except (OSError, ValueError):
                state = {}
        if state.get("day") != _today() or state.get("key") != self.key:
            state = {"day": _today(), "key": self.key, "used": 0, "resume": state.get("resume") or {}}
        return state

    def _save(self) -> None:
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(self.path, json.dumps(self._state, sort_keys=True).encode())

    def reload(self) -> None:
        """Read the file again (another process, or an earlier crawl of this one, may have spent some)."""
        with self._lock:
            self._state = self._load()

    @property
    def used(self) -> int:
        return int(self._state.get("used") or 0)  # type: ignore[call-overload]

    def take(self) -> None:
        """Spend one request, or raise :class:`BudgetExhausted` (nothing spent)."""
        with self._lock:
            if self._state.get("day") != _today():
                self._state = {"day": _today(), "key": self.key, "used": 0, "resume": self._state.get("resume") or {}}
            if self.used >= self.per_day:
                raise BudgetExhausted(f"Etsy's daily request budget ({self.per_day}) is spent; "
                                      "the crawl resumes from here on the next run (after 00:00 UTC)")
            self._state["used"] = self.used + 1

    def flush(self) -> None:
        """Write the count (once per page, not per request)."""
        with self._lock:
            self._save()

    def resume_offset(self, shop_id: str) -> int:
        """Where the shop's last walk stopped for the budget (0: start from the beginning)."""
        resume = self._state.get("resume")
        value = resume.get(str(shop_id), 0) if isinstance(resume, dict) else 0
        return value if isinstance(value, int) and value > 0 else 0

    def remember(self, shop_id: str, offset: int | None) -> None:
        """Record (or, with None, clear) the offset the next walk of the shop starts from."""
        with self._lock:
            resume = self._state.get("resume")
            resume = dict(resume) if isinstance(resume, dict) else {}
            if offset:
                resume[str(shop_id)] = offset
            else:
                resume.pop(str(shop_id), None)
            self._state["resume"] = resume
            self._save()


_SHARED: dict[tuple[str, str], DailyBudget] = {}
_SHARED_LOCK = threading.Lock()


def shared_budget(home: Path | None, api_key: str, per_day: int) -> DailyBudget:
    """The one budget of a workspace and key in this process (every shop of a crawl spends from it).

    Without a workspace each call gets its own in-memory budget."""
    if home is None:
        return DailyBudget(None, api_key, per_day)
    with _SHARED_LOCK:
        k = (str(Path(home).resolve()), api_key.split(":", 1)[0])
        b = _SHARED.get(k)
        if b is None or b.per_day != per_day:
            b = _SHARED[k] = DailyBudget(home, api_key, per_day)
        return b
