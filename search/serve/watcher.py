"""Hot swap: :class:`SnapshotWatcher`, the background thread that moves the engine to a new snapshot.

``aisle serve`` (one per worker process, started in the app's lifespan by
:func:`search.serve.http.create_app`) and ``aisle mcp`` run one. Loading happens on this thread, off
the request path; a snapshot that fails to load is reported in ``last_error`` (``/v1/health``) and
the engine keeps serving the one it has.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from search.serve.protocol import SearchEngine

log = logging.getLogger("aisle.api")


class SnapshotWatcher:
    """Background thread that moves the engine to a newly current snapshot (hot swap).

    Every ``interval`` seconds it calls ``engine.refresh()`` (cheap when nothing changed: the engine
    compares the CURRENT pointer). Loading a new snapshot happens here, off the request path; requests
    keep the snapshot they started with because the engine hands each call one snapshot object.

    A new snapshot that fails to load (damaged) is recorded in ``last_error`` and the engine keeps
    serving what it has. With ``pointer`` (a function reading the CURRENT pointer) the watcher also
    remembers a pointer value that did not load and does not retry it every interval (the engine would
    otherwise re-read the damaged files, and its fallback, each time) until the pointer changes again.
    """

    def __init__(
        self, engine: SearchEngine, interval: float = 1.0, *, pointer: Callable[[], str | None] | None = None
    ) -> None:
        self.engine = engine
        self.interval = interval
        self.pointer = pointer
        self.swaps = 0
        self.last_error: str | None = None
        self._refused: str | None = None  # a pointer value that did not load
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def check_now(self) -> bool:
        """One refresh; True when the engine moved to a new snapshot."""
        wanted = self.pointer() if self.pointer is not None else None
        if self.pointer is not None and (wanted is None or wanted == self._refused):
            return False  # no pointer (nothing to move to) or one already found damaged
        try:
            swapped = bool(self.engine.refresh())
        except Exception as exc:  # a bad new snapshot must not take the server down
            self.last_error = f"{type(exc).__name__}: {exc}"
            self._refused = wanted
            log.warning("snapshot refresh failed, still serving the previous snapshot: %s", self.last_error)
            return False
        serving = getattr(self.engine.snapshot, "version", None)
        if swapped:
            self.swaps += 1
            log.info("switched to snapshot %s", serving)
        if wanted is not None and serving != wanted:
            # The engine fell back (the current snapshot is damaged): remember it, do not reload each time.
            self._refused = wanted
            self.last_error = f"snapshot {wanted} could not be loaded; serving {serving}"
            log.warning(self.last_error)
        elif swapped or wanted is not None:
            self.last_error = None
            self._refused = None
        return swapped

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.check_now()

    def start(self) -> None:
        """Start watching (no-op when ``interval`` <= 0)."""
        if self.interval > 0 and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="aisle-snapshot-watcher", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop watching and wait for the thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
