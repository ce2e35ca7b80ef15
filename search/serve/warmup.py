"""Warm-up: load what a first search would load lazily before the server says it is ready.

The first search after start used to pay for loading the sentence-transformers model (about 4.7 s)
while ``/v1/health`` already answered ``ok``. :func:`warm` runs one throwaway search per mode (bm25,
dense, hybrid), which loads the query encoder and touches everything else built on first use (the
BM25 and FAISS structures, the spelling and floor caches). :class:`Warmup` runs it on a background
thread when the app starts, so the server accepts connections at once and ``/v1/health`` can say
what is going on:

* while warming: **HTTP 503** with ``{"status": "warming", ...}`` and ``Retry-After: 1``. Load balancers
  and orchestrators (Kubernetes readiness probes, AWS ALB/ELB, HAProxy, nginx) treat any 2xx as ready
  and any 5xx as not ready, so a 503 keeps traffic away without killing the process;
* once warm: **HTTP 200** with ``{"status": "ok", "warm_s": ...}``. A warm-up that failed (it should not:
  it is an ordinary search) is logged and reported as ``warm_error``; the server is then ready anyway,
  since a request would only retry the same loading.

Requests are served while warming (a search then waits for the same model load); only health tells.
"""

from __future__ import annotations

import logging
import threading
import time

from search.schema import SearchRequest
from search.serve.protocol import SearchEngine

log = logging.getLogger(__name__)

#: The throwaway query: common words, so every stage (text, vectors, floor) does its real work.
WARM_QUERY = "warm wool hat"


def warm(engine: SearchEngine) -> float:
    """Run one throwaway search per mode on ``engine``; the seconds it took."""
    start = time.perf_counter()
    for mode in ("bm25", "dense", "hybrid"):
        engine.search(SearchRequest(query=WARM_QUERY, mode=mode, limit=1))  # type: ignore[arg-type]
    return time.perf_counter() - start


class Warmup:
    """:func:`warm` on a daemon thread: :attr:`ready` once done, :attr:`seconds` and :attr:`error` after."""

    def __init__(self, engine: SearchEngine) -> None:
        self.engine = engine
        self.seconds: float | None = None
        self.error: str | None = None
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def ready(self) -> bool:
        """True once the warm-up finished (or failed)."""
        return self._done.is_set()

    def start(self) -> None:
        """Start warming (once)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="aisle-warmup", daemon=True)
            self._thread.start()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until warm (or ``timeout`` seconds); True when warm."""
        return self._done.wait(timeout)

    def _run(self) -> None:
        try:
            self.seconds = round(warm(self.engine), 3)
            log.info("warm in %.2f s", self.seconds)
        except Exception as exc:  # noqa: BLE001 - reported in /v1/health; a request would retry the same load
            self.error = f"{type(exc).__name__}: {exc}"[:300]
            log.warning("warm-up failed: %s", self.error)
        finally:
            self._done.set()
