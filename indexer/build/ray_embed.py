"""Embedding as a Ray Data pipeline (``aisle index --ray [--address ADDR]``).

:class:`RayDataEncoder` is an :class:`indexer.build.embed.Encoder`: :func:`indexer.build.index.build_index`
runs unchanged around it, so the product-text recipe, the embedding cache (only texts missing from it reach
the pipeline), the manifest and the snapshot format are the local build's. Each ``encode`` call is one Ray
Data pipeline: the texts (with their position) become a dataset, ``map_batches`` sends batches to a pool of
``workers`` actors, each holding the model from :func:`indexer.build.embed.load_encoder` (the same backend and
model name as the local build, loaded once per actor and pipeline), and the vectors come back in input order.
``backend`` is the local build's choice: ``aisle index --ray`` passes ``--backend`` (or ``AISLE_EMBED_BACKEND``),
else the current snapshot's backend (:func:`indexer.build.embed.kept_backend`), as a local re-index keeps it; the
actors export ONNX/OpenVINO models into their node's default cache (``~/.cache/aisle/onnx``).

The build calls ``encode`` once per chunk of ``4 x batch_size`` texts; ``aisle index --ray`` therefore passes
``--batch-size`` 1024 by default (4,096 texts per run) and the actors encode in batches of ``actor_batch`` (64),
so that the pipeline's start-up (actor start and model load: 4-7 s measured, docs/benchmarks.md) is paid a few
times per build rather than per 256 texts. The embedding cache is written after each chunk, so a killed
distributed build resumes where it stopped, as a local one does.

Ray is imported only here (``pip install 'aisle[ray]'``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from indexer.build.embed import Encoder, load_encoder
from indexer.errors import ConfigError, SnapshotError


def ray_module(address: str | None = None, *, num_cpus: int | None = None) -> Any:
    """The ray module, joined to ``address`` (or a local cluster started here) when not yet initialised."""
    try:
        import ray
    except ImportError:
        raise ConfigError("Ray is not installed: pip install 'aisle[ray]'") from None
    if not ray.is_initialized():
        kw: dict[str, Any] = {"address": address} if address else {"num_cpus": num_cpus}
        ray.init(include_dashboard=False, log_to_driver=False, **kw)
    return ray


class _EmbedActor:
    """One pipeline worker: the model loaded once, batches of texts in, vectors out (with their positions)."""

    def __init__(self, model: str | None, device: str | None, backend: str | None = None) -> None:
        self.encoder = load_encoder(model, device, backend=backend)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        texts = [str(t) for t in batch["text"]]
        return {"i": batch["i"], "vec": self.encoder.encode(texts, batch_size=len(texts))}


class RayDataEncoder:
    """An :class:`Encoder` whose ``encode`` runs a Ray Data pipeline over ``workers`` model actors."""

    def __init__(self, model: str | None = None, device: str | None = None, *, workers: int = 2,
                 actor_batch: int = 64, address: str | None = None, backend: str | None = None) -> None:
        if workers < 1 or actor_batch < 1:
            raise ConfigError("Ray embedding needs at least one worker and a batch of at least one text")
        self._model, self._device, self._backend = model, device, backend
        # name and dimension, as the local build's (the backend is part of the name: it keys the cache)
        self._local: Encoder = load_encoder(model, device, lazy=True, backend=backend)
        self.workers, self.actor_batch, self.address = workers, actor_batch, address

    @property
    def name(self) -> str:
        """The model name (keys the embedding cache and is recorded in the manifest, as locally)."""
        return self._local.name

    @property
    def dim(self) -> int:
        """The vector dimension."""
        return self._local.dim

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Vectors of ``texts`` in order, encoded by the actor pool (``batch_size`` is the build's; see the module)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        ray = ray_module(self.address)
        ds = ray.data.from_items([{"i": i, "text": t} for i, t in enumerate(texts)])
        out = ds.map_batches(_EmbedActor, fn_constructor_args=(self._model, self._device, self._backend),
                             batch_size=self.actor_batch, batch_format="numpy", concurrency=self.workers, num_cpus=1)
        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        seen = 0
        for batch in out.iter_batches(batch_format="numpy", batch_size=None):
            vectors[np.asarray(batch["i"], dtype=np.int64)] = np.asarray(batch["vec"], dtype=np.float32)
            seen += len(batch["i"])
        if seen != len(texts):
            raise SnapshotError(f"the Ray pipeline returned {seen} vectors for {len(texts)} texts")
        return vectors
