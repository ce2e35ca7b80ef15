"""One compute thread per query, and the query's encoder beside its filter: torch, BLAS and FAISS run
single-threaded while a search is answered; the query's encoding runs on a second thread meanwhile.

A search does small pieces of numeric work (one query embedding, a few matrix-vector products, one
FAISS search). Spreading each over every core buys little and, on a busy machine, costs a great deal:
the libraries' worker threads spin-wait for each other and for the other libraries' threads. Measured
on the 2-core development machine under load (``benchmarks/scale.py``, docs/benchmarks.md "Scale"):

==============================  ==================  ==================
                                every thread (2)    one thread
==============================  ==================  ==================
query embedding (MiniLM, torch)  p50 318 ms          p50 19 ms
``vectors[10k] @ q`` (OpenBLAS)  p50 13 ms           p50 0.5 ms
==============================  ==================  ==================

:func:`single_threaded` is a re-entrant, thread-safe context manager: the first search to enter lowers
torch's intra-op threads and the BLAS pools (through ``threadpoolctl`` when it is installed; it comes
with sentence-transformers) to one, and the last to leave restores what was there, so an index build
later in the same process gets every core back. Concurrent requests still use every core: one each.
FAISS's OpenMP setting is per calling thread and is handled by :mod:`search.retrieval.filtered`.

The one exception, the query's encoder beside its filter (``EngineSettings.prefetch_query_vector``, on by
default): once the interpretation knows the text to rank by, its encoding (one intra-op thread, like
everything else here) starts on the engine's one background thread, :meth:`search.retrieval.encoding.
QueryVectors.prefetch`, while the request's thread computes the allowed rows and the BM25 scores; the dense
retrieval then takes the finished vector. Two threads per query, not more: the encoder's work and the filter's
are each single-threaded and independent (ONNX Runtime and numpy's array loops release the GIL), so on two cores
the encoding (~4 ms of a 12-20 ms search at 1M products) mostly leaves the critical path instead of adding to it.
Measured in docs/benchmarks.md, "Query encoding beside the filter".

:func:`limit_native_threads` is the process-wide counterpart, called once when a server starts: it caps
the BLAS/OpenMP pools for the whole process (``aisle serve --native-threads``, ``aisle mcp``).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_lock = threading.Lock()
_depth = 0
_saved: dict[str, Any] = {}
_blas: Any = None  # threadpoolctl controller of the BLAS libraries (False: threadpoolctl missing)
_blas_modules = -1  # len(sys.modules) when _blas was taken


def _controller() -> Any:
    """threadpoolctl's view of the loaded BLAS libraries (a scan of the process's memory map costs
    milliseconds; limiting through a kept controller costs microseconds). The view is taken again when
    modules were imported since: an import is what loads a new native BLAS (scipy's, faiss's), and one
    loaded after the first search must be limited too. A server imports nothing new once warm."""
    global _blas, _blas_modules
    if _blas is None or (_blas is not False and len(sys.modules) != _blas_modules):
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:  # pragma: no cover - optional
            _blas = False
        else:
            _blas = ThreadpoolController().select(user_api="blas")
        _blas_modules = len(sys.modules)
    return _blas or None


def _limit() -> None:
    blas = _controller()
    if blas is not None:
        _saved["blas"] = blas.limit(limits=1)
    torch = sys.modules.get("torch")  # only when the model is loaded: never import torch for this
    if torch is not None:
        _saved["torch"] = torch.get_num_threads()
        torch.set_num_threads(1)


def _restore() -> None:
    # BLAS first: threadpoolctl's restore also resets torch's intra-op pool, so torch is set last.
    limiter = _saved.pop("blas", None)
    if limiter is not None:
        limiter.restore_original_limits()
    torch = sys.modules.get("torch")
    if torch is not None and "torch" in _saved:
        torch.set_num_threads(_saved.pop("torch"))


@contextmanager
def single_threaded() -> Iterator[None]:
    """Run the body with one torch / BLAS thread (see the module docstring); nests and is thread-safe."""
    global _depth
    with _lock:
        if _depth == 0:
            _limit()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                _restore()


def limit_native_threads(threads: int = 1) -> None:
    """Cap the BLAS and OpenMP thread pools of this process at ``threads`` (0 or less: leave them alone).

    Why: a server runs many searches at once, each doing small matrix products (exact dense scoring,
    BM25 arrays, FAISS). With the default pools (one thread per core) concurrent requests oversubscribe
    the cores and OpenBLAS threads spin against each other; measured on the shared catalogs with 16
    concurrent searches, QPS fell from about 300 to about 12. With one native thread per request the
    parallelism comes from the requests themselves (see docs/benchmarks.md, "Query API").
    """
    if threads <= 0:
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # threadpoolctl comes with scikit-learn (sentence-transformers); env is the fallback
        import os

        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(var, str(threads))
        return
    threadpool_limits(limits=threads)
