"""The sharded engine: :class:`search.engine.Engine` over index shards (``aisle serve --ray``).

:class:`ShardedEngine` is an :class:`Engine` whose snapshot keeps the catalog metadata (products, merchants,
vocabulary: what filters and answers read) and whose BM25, FAISS index and vectors are proxies that
scatter to the shards and merge (:mod:`search.retrieval.shards`, where the design is written down). Every
step of a search is the engine's own, so the answer, its order, scores and cursors equal the single
snapshot's on the same data; a shard that does not answer makes the response ``partial`` with
``missing_shards`` instead of failing.

``connect(snapshot) -> ShardSet`` reaches the shards of a snapshot version: :func:`local_connector` in this
process, :class:`search.serve.ray_shards.RayShards` on a Ray cluster. On :meth:`Engine.refresh` (a new
snapshot) the engine connects again; each shard swaps to its new version on its own, and until it has, it
counts as missing (it refuses requests for another version than the one it holds).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from indexer.build.shards import shard_paths, shards_dir
from indexer.build.snapshot import current_version
from indexer.errors import ConfigError
from search.engine import Engine
from search.retrieval.shards import (
    LocalShard,
    ShardedDense,
    ShardedLexical,
    ShardedVectors,
    ShardIndex,
    ShardSet,
    missing,
)
from search.schema import SearchRequest, SearchResponse

Connect = Callable[[Any], ShardSet]


def sharded_snapshot(snapshot: Any, shards: ShardSet) -> Any:
    """``snapshot`` with its BM25, FAISS index and vectors replaced by scatter-gather proxies over ``shards``."""
    vocab = snapshot.lexical.subset(np.zeros(0, dtype=np.int64))  # the catalog's terms, no postings
    return dataclasses.replace(snapshot, lexical=ShardedLexical(shards, vocab), dense=ShardedDense(shards),
                               vectors=ShardedVectors(shards))


def shard_set(clients: list[Any], folders: list[Path], version: str, dim: int) -> ShardSet:
    """A :class:`ShardSet` over ``clients``, the row ownership read from each shard folder's ``rows.npy``."""
    owners = [np.load(Path(f) / "rows.npy", allow_pickle=False) for f in folders]
    return ShardSet(clients, owners, version, dim)


def local_connector(home: Path) -> Connect:
    """Shards of each snapshot version loaded in this process (``<home>/shards/<version>``)."""

    def connect(snapshot: Any) -> ShardSet:
        folders = shard_paths(shards_dir(home, snapshot.version))
        clients = [LocalShard(ShardIndex(f)) for f in folders]
        return shard_set(clients, folders, snapshot.version, int(snapshot.vectors.shape[1]))

    return connect


class ShardedEngine(Engine):
    """An :class:`Engine` answering from index shards (same contract; see the module docstring)."""

    def __init__(self, snapshot: Any, *, connect: Connect, backend: Any = None, **kw: Any) -> None:
        self._connect = connect
        self.backend = backend  # what runs the shards (search.serve.ray_shards.RayShards), for operations
        self.shards: ShardSet | None = None
        self._ws = kw.get("workspace")
        super().__init__(snapshot, **kw)

    def refresh(self) -> bool:
        """:meth:`Engine.refresh`, once the new snapshot's shards are written (``aisle index --shards N`` writes
        them after switching the snapshot): until then the current version keeps answering, and the watcher
        tries again at its next check."""
        version = current_version(self._ws) if self._ws is not None else None
        if self._ws is not None and version not in (None, self.snapshot.version):
            try:
                shard_paths(shards_dir(self._ws.home, str(version)))
            except ConfigError:
                return False
        return super().refresh()

    def _make_state(self, snapshot: Any) -> Any:
        self.shards = self._connect(snapshot)
        return super()._make_state(sharded_snapshot(snapshot, self.shards))

    def search(self, request: SearchRequest) -> SearchResponse:
        """:meth:`Engine.search` over the shards; ``partial``/``missing_shards`` when some did not answer."""
        with missing() as lost:
            response = super().search(request)
        if lost:
            response = response.model_copy(update={"partial": True, "missing_shards": sorted(lost)})
        return response
