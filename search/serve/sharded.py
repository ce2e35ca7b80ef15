"""The sharded engine: :class:`search.engine.Engine` over index shards (``aisle serve --ray``).

:class:`ShardedEngine` is an :class:`Engine` whose snapshot keeps the catalog metadata (products, merchants,
vocabulary: what filters and answers read) and whose BM25, FAISS index and vectors are proxies that
scatter to the shards and merge (:mod:`search.retrieval.shards`, where the design is written down). Every
step of a search is the engine's own, so the answer, its order, scores and cursors equal the single
snapshot's on the same data; a shard that does not answer makes the response ``partial`` with
``missing_shards`` instead of failing.

``connect(snapshot) -> ShardSet`` reaches the shards of a snapshot version: :func:`local_connector` in this
process, :class:`search.serve.ray_shards.RayShards` on a Ray cluster. On :meth:`Engine.refresh` (a new
snapshot, once its shard map is written) the engine connects again: only the shards whose version changed
load it, beside the version they serve (:class:`search.retrieval.shards.ShardHost`); then the engine swaps its
state (snapshot and shard set) in one assignment. A request answers from the old shard versions or the new
ones, never a mix and never neither; a shard that fails to load its new version counts as missing.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from indexer.build.shard_lexical import LexStats
from indexer.build.shards import ShardMap, open_coordinator_snapshot, read_map, require_map
from indexer.build.snapshot import current_version
from indexer.errors import ConfigError
from search.engine import Engine
from search.retrieval.shards import (
    LocalShard,
    ShardedDense,
    ShardedLexical,
    ShardedVectors,
    ShardHost,
    ShardSet,
    missing,
)
from search.schema import SearchRequest, SearchResponse

Connect = Callable[[Any], ShardSet]


def sharded_snapshot(snapshot: Any, shards: ShardSet) -> Any:
    """``snapshot`` with its BM25, FAISS index and vectors replaced by scatter-gather proxies over ``shards``."""
    return dataclasses.replace(snapshot, lexical=ShardedLexical(shards, _analyser(snapshot.lexical)),
                               dense=ShardedDense(shards), vectors=ShardedVectors(shards))


def _analyser(lexical: Any) -> Any:
    """What reads queries for the shards: the snapshot's own BM25 index (its per-language analysis)."""
    return lexical.analyser if isinstance(lexical, ShardedLexical) else lexical


def shard_set(clients: list[Any], smap: ShardMap, snapshot: Any) -> ShardSet:
    """A :class:`ShardSet` over ``clients`` for the shard versions of ``smap``: each shard's rows mapped to
    ``snapshot``'s rows by doc id (``doc_ids.npy``), the catalog's BM25 statistics summed from the shards'.
    ConfigError when the shards do not hold exactly the snapshot's products."""
    ids = np.asarray([d.encode("utf-8") for d in snapshot.doc_ids()], dtype=bytes)
    # a built snapshot's rows are in doc id order; one assembled in memory (benchmarks) need not be
    by_id = np.argsort(ids, kind="stable") if len(ids) and np.any(ids[1:] < ids[:-1]) else None
    keys = ids if by_id is None else ids[by_id]
    globs, infos = [], []
    for folder in smap.folders():
        own = np.load(folder / "doc_ids.npy", allow_pickle=False)
        at = np.searchsorted(keys, own) if len(keys) else np.zeros(len(own), dtype=np.int64)
        if len(own) and (at.max() >= len(keys) or np.any(keys[np.minimum(at, len(keys) - 1)] != own)):
            raise ConfigError(f"shard {folder} holds products snapshot {snapshot.version} does not")
        globs.append((at if by_id is None else by_id[at]).astype(np.int64))
        infos.append(folder)
    if sum(len(g) for g in globs) != len(ids):
        raise ConfigError(f"the shards of snapshot {snapshot.version} do not hold all its products")
    first = json.loads((infos[0] / "shard.json").read_text("utf-8")) if infos else {"k1": 1.2, "b": 0.75}
    reader = _analyser(snapshot.lexical)  # its term -> column map keys the summed frequencies (LexStats)
    stats = LexStats.read([f / "lexical" for f in infos], float(first["k1"]), float(first["b"]),
                          ids=reader.term_ids() if hasattr(reader, "term_ids") else None)
    return ShardSet(clients, smap.versions, globs, int(snapshot.manifest["dim"]), stats)


def local_connector(home: Path) -> Connect:
    """Shards served in this process, one :class:`ShardHost` each: a new snapshot loads only the shard versions
    its map names that a host does not hold yet (an unchanged shard is not reloaded)."""
    hosts: dict[int, ShardHost] = {}

    def connect(snapshot: Any) -> ShardSet:
        smap = require_map(home, snapshot.version)
        for k in range(smap.n):
            host = hosts.setdefault(k, ShardHost())
            if smap.versions[k] not in host.held:
                host.load(smap.folder(k))
        return shard_set([LocalShard(k, hosts[k]) for k in range(smap.n)], smap, snapshot)

    connect.hosts = hosts  # type: ignore[attr-defined]  # for operations and tests: what each shard loaded
    return connect


class ShardedEngine(Engine):
    """An :class:`Engine` answering from index shards (same contract; see the module docstring)."""

    def __init__(self, snapshot: Any, *, connect: Connect, backend: Any = None, **kw: Any) -> None:
        self._connect = connect
        self.backend = backend  # what runs the shards (search.serve.ray_shards.RayShards), for operations
        self.shards: ShardSet | None = None
        self._ws = kw.get("workspace")
        super().__init__(snapshot, **kw)

    @staticmethod
    def load_current(workspace: Any) -> Any:
        """The coordinator's snapshot: catalog rows, merchants, vocabulary; not the vectors, FAISS index or BM25
        postings, which the shards hold (:func:`indexer.build.shards.open_coordinator_snapshot`)."""
        return open_coordinator_snapshot(workspace)

    def refresh(self) -> bool:
        """:meth:`Engine.refresh`, once the new snapshot's shard map is written (``aisle index --shards N`` writes
        it after the shards it changed): until then the current version keeps answering, and the watcher tries
        again at its next check."""
        version = current_version(self._ws) if self._ws is not None else None
        if self._ws is not None and version not in (None, self.snapshot.version) \
                and read_map(self._ws.home, str(version)) is None:
            return False
        return super().refresh()

    def _make_state(self, snapshot: Any) -> Any:
        # The shard set is part of the state: the engine swaps both with one assignment, and a request keeps the
        # set (and so the shard versions) it started with; hosts keep the previous version meanwhile.
        shards = self._connect(snapshot)
        state = super()._make_state(sharded_snapshot(snapshot, shards))
        self.shards = shards
        return state

    def search(self, request: SearchRequest) -> SearchResponse:
        """:meth:`Engine.search` over the shards; ``partial``/``missing_shards`` when some did not answer."""
        with missing() as lost:
            response = super().search(request)
        if lost:
            response = response.model_copy(update={"partial": True, "missing_shards": sorted(lost)})
        return response
