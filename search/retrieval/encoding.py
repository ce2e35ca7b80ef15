"""Query vectors for one engine: the query encoder, loaded on first use, and a small cache of vectors.

:class:`QueryVectors` is shared by every request thread of an :class:`search.engine.Engine`: the encoder is
loaded once (under a lock) the first time a dense query needs it, and the last 1,024 query vectors are kept,
keyed by (model, text), so a repeated query (a second page, the near matches of the same words, the relevance
floor's kind phrase) is encoded once.

Prefetch (``EngineSettings.prefetch_query_vector``): :meth:`QueryVectors.prefetch` starts the encoding of texts a
search will ask for on one background thread of the engine, as soon as the interpretation knows them; the later
:meth:`QueryVectors.encode_many` of the same texts waits for that result instead of encoding again. Why: the
encoder (ONNX Runtime releases the GIL in ``run``) then runs beside the filter and BM25 scoring, which at 1M
products take several milliseconds before the vector is needed (docs/benchmarks.md, "Query encoding beside the
filter"). The texts are encoded in the very batch the search asks for, so the vectors are the same to the bit.
A prefetch that has not started when its texts are asked for (the thread busy with another request's) is
cancelled and the asking thread encodes them itself, as without prefetch; one that failed raises its error in the
asking thread, as the encoding there would have.

Which encoder answers queries (:func:`load_query_encoder`, ``EngineSettings.query_backend``): the snapshot's
model (its manifest's ``model``), on a backend that gives the snapshot's own vectors. ``torch`` and ``onnx``
(ONNX Runtime fp32) give the same vectors (cosine >= 0.9999, docs/benchmarks.md "Embedding backends"), so a
snapshot built with either is queried with the one chosen by ``query_backend``:

* ``"auto"`` (default): ONNX Runtime fp32 when onnxruntime is importable and the model is a local mean-pooled
  one (the bundled all-MiniLM-L6-v2 is); exported once from the local weights into the workspace's
  ``cache/onnx`` (:func:`indexer.build.onnx_encoder.exported_model`); anything that stops it (no onnxruntime,
  a model ONNX cannot run, a failed export) falls back to torch with a log line. Why: one short query
  encodes in about 4 ms on ONNX Runtime against 15 ms on torch, one thread each (docs/benchmarks.md, "Query
  latency with the ONNX query encoder"), and the search answers are the same.
* ``"onnx"``: ONNX Runtime fp32, and an error (ConfigError) when it cannot be used.
* ``"torch"``: sentence-transformers fp32, as before this setting existed.

A snapshot of any other backend is queried with its own (``onnx-int8``, ``openvino``, ``openvino-bf16``: their
vectors are not the fp32 torch ones to the last digit, and the dev figures of each were measured that way), and
the ``hashing-<dim>`` test encoder is itself. The ONNX session is made for one short text: one intra-op
thread (a search runs single-threaded, :mod:`search.retrieval.threads`) and no spin-waiting thread pool.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import threading
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from indexer.errors import ConfigError

if TYPE_CHECKING:
    from indexer.build.embed import Encoder

log = logging.getLogger(__name__)
CACHE_SIZE = 1024
QUERY_BACKENDS = ("auto", "onnx", "torch")
_FP32 = ("torch", "onnx")  # backends that give the same vectors: a snapshot of one is queried with either


def check_query_backend(value: str) -> str:
    """``value`` if it is one of :data:`QUERY_BACKENDS`; a ConfigError naming them otherwise."""
    if value not in QUERY_BACKENDS:
        raise ConfigError(f"unknown query backend {value!r} (use {', '.join(QUERY_BACKENDS)})")
    return value


def same_vectors(encoder_name: str, model: str) -> bool:
    """Whether an encoder named ``encoder_name`` gives the vectors of a snapshot of ``model``: the same model,
    and the same backend or two fp32 backends (``torch`` / ``onnx``)."""
    from indexer.build.embed import backend_of, split_name

    if encoder_name == model:
        return True
    a, b = backend_of(encoder_name), backend_of(model)
    return split_name(encoder_name)[0] == split_name(model)[0] and a in _FP32 and b in _FP32


def load_query_encoder(model: str, query_backend: str = "auto", cache_dir: Path | None = None) -> Encoder:
    """The encoder that answers queries for a snapshot of ``model`` (the module docstring says which)."""
    from indexer.build.embed import backend_of, load_encoder, split_name

    check_query_backend(query_backend)
    built = backend_of(model) if model else "torch"
    if built not in _FP32:  # onnx-int8, openvino*, the hashing test encoder: each its own vectors
        return load_encoder(model, backend=built, cache_dir=cache_dir, threads=1)
    base = split_name(model)[0] if model else None
    if query_backend != "torch":
        why = None if importlib.util.find_spec("onnxruntime") else "onnxruntime is not installed"
        if why is None:
            try:  # not lazy: export (once) and load now, so that a failure falls back here
                return load_encoder(base, backend="onnx", cache_dir=cache_dir, threads=1)
            except Exception as exc:  # ConfigError, ImportError, an export error: all mean "not ONNX here"
                why = str(exc)
        if query_backend == "onnx":
            raise ConfigError(f"the onnx query backend cannot be used: {why}; use query backend torch")
        log.info("query encoder: torch (ONNX Runtime not usable: %s)", why)
    return load_encoder(base, backend="torch")


class QueryVectors:
    """The query encoder of an engine and its cache of query vectors (module docstring)."""

    def __init__(self, encoder: Encoder | None, cache_dir: Path | None = None, backend: str = "auto") -> None:
        self._cache_dir = cache_dir  # where an ONNX backend's export lives (the workspace's cache/onnx)
        self._backend = check_query_backend(backend)  # EngineSettings.query_backend
        self.explicit: Encoder | None = encoder  # given by the caller: must match every snapshot's model
        self.encoder: Encoder | None = encoder
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._cache_lock = threading.Lock()  # guards _cache and _pending
        self._pending: dict[tuple[str, str], Future[dict[str, np.ndarray]]] = {}  # prefetches not yet done
        self._pool: tuple[int, ThreadPoolExecutor] | None = None  # (pid, one worker), made on the first prefetch

    def check_model(self, model: str) -> None:
        """Before a snapshot of ``model`` is served: refuse a given encoder of another model; forget a loaded
        one of another model (the snapshot's own is then loaded lazily)."""
        if self.explicit is not None and model and not same_vectors(self.explicit.name, model):
            # the name carries the backend too: vectors of two backends never meet (torch and onnx are the same)
            raise ConfigError(f"the encoder {self.explicit.name!r} does not match the snapshot's model {model!r}")
        if self.encoder is not None and model and not same_vectors(self.encoder.name, model):
            self.encoder = None

    def clear(self) -> None:
        """Forget cached query vectors."""
        with self._cache_lock:
            self._cache.clear()

    def _get(self, key: tuple[str, str]) -> np.ndarray | None:
        with self._cache_lock:
            return self._cache.get(key)

    def _put(self, key: tuple[str, str], vec: np.ndarray) -> None:
        with self._cache_lock:  # requests run concurrently (HTTP API threads): one writer at a time
            self._cache[key] = vec
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)

    def encode(self, snapshot: Any, text: str) -> np.ndarray:
        """The vector of ``text`` for ``snapshot``'s model (its dimension checked against the snapshot's)."""
        return self.encode_many(snapshot, [text])[0]

    def encode_many(self, snapshot: Any, texts: list[str]) -> list[np.ndarray]:
        """Vectors of ``texts``; those not cached are encoded in ONE forward pass (or taken from a prefetch).

        A search that needs its query and its kind phrase (the relevance floor) asks for both at once: a
        batch of two short texts costs about what one does, so the floor's encoding is nearly free.
        """
        model = str(snapshot.manifest.get("model", ""))
        found = {t: self._get((model, t)) for t in texts}
        todo = [t for t, v in found.items() if v is None]
        if todo and self._pending:
            found |= self._awaited(model, todo)
            todo = [t for t, v in found.items() if v is None]
        if todo:
            found |= self._encode_now(snapshot, model, todo)
        return [v for v in (found[t] for t in texts) if v is not None]

    def _encode_now(self, snapshot: Any, model: str, texts: list[str]) -> dict[str, np.ndarray]:
        """``texts`` encoded in one forward pass (dimensions checked), and cached."""
        vecs = np.asarray(self._encoder(model).encode(texts), dtype=np.float32)
        if vecs.shape[1] != snapshot.vectors.shape[1]:
            raise ConfigError(f"query vectors have {vecs.shape[1]} dimensions, "
                              f"the snapshot {snapshot.vectors.shape[1]}")
        for t, vec in zip(texts, vecs, strict=True):
            self._put((model, t), vec)
        return dict(zip(texts, vecs, strict=True))

    def prefetch(self, snapshot: Any, texts: list[str]) -> None:
        """Start encoding ``texts`` (those neither cached nor already on their way) in one batch on the engine's
        background thread; :meth:`encode_many` of the same texts takes the result (module docstring)."""
        model = str(snapshot.manifest.get("model", ""))
        with self._cache_lock:
            todo = [t for t in dict.fromkeys(texts)
                    if (model, t) not in self._cache and (model, t) not in self._pending]
            if not todo:
                return
            fut = self._executor().submit(self._encode_now, snapshot, model, todo)
            for t in todo:
                self._pending[(model, t)] = fut
        fut.add_done_callback(lambda f: self._forget(model, todo, f))

    def _forget(self, model: str, texts: list[str], fut: Future[dict[str, np.ndarray]]) -> None:
        with self._cache_lock:
            for t in texts:
                if self._pending.get((model, t)) is fut:
                    del self._pending[(model, t)]

    def _awaited(self, model: str, texts: list[str]) -> dict[str, np.ndarray]:
        """The vectors of ``texts`` that prefetches were started for: waited for when running (their error
        raised here), cancelled when not yet started (the caller encodes those itself)."""
        with self._cache_lock:
            if self._pool is None or self._pool[0] != os.getpid():  # a forked child: the parent's never finish here
                self._pending.clear()
                return {}
            futures = list(dict.fromkeys(f for f in (self._pending.get((model, t)) for t in texts) if f is not None))
        out: dict[str, np.ndarray] = {}
        for fut in futures:
            if not fut.cancel():  # running or done: its batch is the one this search asked for
                out |= {t: v for t, v in fut.result().items() if t in texts}
        return out

    def _executor(self) -> ThreadPoolExecutor:
        """The one prefetch thread (made again in a forked child, where the parent's thread does not run)."""
        if self._pool is None or self._pool[0] != os.getpid():
            self._pool = (os.getpid(), ThreadPoolExecutor(max_workers=1, thread_name_prefix="aisle-query-encoder"))
        return self._pool[1]

    def _encoder(self, model: str) -> Encoder:
        enc = self.encoder
        if enc is None:
            with self._lock:
                if self.encoder is None:
                    # the snapshot's vectors, never the build default (module docstring)
                    self.encoder = load_query_encoder(model, self._backend, self._cache_dir)
                enc = self.encoder
        return enc

    def encode_multilingual(self, text: str) -> np.ndarray:
        """The multilingual (USE) vector of ``text``, through the same cache."""
        from indexer.build.multilingual import MODEL, encode_query

        key = (MODEL, text)
        hit = self._get(key)
        if hit is None:
            hit = encode_query(text)
            self._put(key, hit)
        return hit
