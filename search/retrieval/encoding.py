"""Query vectors for one engine: the snapshot's encoder, loaded on first use, and a small cache of vectors.

:class:`QueryVectors` is shared by every request thread of an :class:`search.engine.Engine`: the encoder is
loaded once (under a lock) the first time a dense query needs it, and the last 1,024 query vectors are kept,
keyed by (model, text), so a repeated query (a second page, the near matches of the same words, the relevance
floor's kind phrase) is encoded once. The encoder runs on the snapshot's own backend (the manifest's model
name carries it: ``...+onnx-int8``; none means ``torch``), whatever the build default is now.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from indexer.errors import ConfigError

if TYPE_CHECKING:
    from indexer.build.embed import Encoder

CACHE_SIZE = 1024


class QueryVectors:
    """The query encoder of an engine and its cache of query vectors (module docstring)."""

    def __init__(self, encoder: Encoder | None, cache_dir: Path | None = None) -> None:
        self._cache_dir = cache_dir  # where an ONNX backend's export lives (the workspace's cache/onnx)
        self.explicit: Encoder | None = encoder  # given by the caller: must match every snapshot's model
        self.encoder: Encoder | None = encoder
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._cache_lock = threading.Lock()

    def check_model(self, model: str) -> None:
        """Before a snapshot of ``model`` is served: refuse a given encoder of another model; forget a loaded
        one of another model (the snapshot's own is then loaded lazily)."""
        if self.explicit is not None and model and self.explicit.name != model:
            # the name carries the backend too: vectors of two backends never meet
            raise ConfigError(f"the encoder {self.explicit.name!r} does not match the snapshot's model {model!r}")
        if self.encoder is not None and model and self.encoder.name != model:
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
        """Vectors of ``texts``; those not cached are encoded in ONE forward pass.

        A search that needs its query and its kind phrase (the relevance floor) asks for both at once: a
        batch of two short texts costs about what one does, so the floor's encoding is nearly free.
        """
        model = str(snapshot.manifest.get("model", ""))
        found = {t: self._get((model, t)) for t in texts}
        todo = [t for t, v in found.items() if v is None]
        if todo:
            vecs = np.asarray(self._encoder(model).encode(todo), dtype=np.float32)
            if vecs.shape[1] != snapshot.vectors.shape[1]:
                raise ConfigError(f"query vectors have {vecs.shape[1]} dimensions, "
                                  f"the snapshot {snapshot.vectors.shape[1]}")
            for t, vec in zip(todo, vecs, strict=True):
                found[t] = vec
                self._put((model, t), vec)
        return [v for v in (found[t] for t in texts) if v is not None]

    def _encoder(self, model: str) -> Encoder:
        enc = self.encoder
        if enc is None:
            with self._lock:
                if self.encoder is None:
                    from indexer.build.embed import backend_of, load_encoder

                    # the snapshot's own backend (its model name carries it; none = torch), never the default;
                    # one ONNX thread: a query is a text or two, and a search runs single-threaded
                    self.encoder = load_encoder(model or None, backend=backend_of(model) if model else None,
                                                cache_dir=self._cache_dir, threads=1)
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
