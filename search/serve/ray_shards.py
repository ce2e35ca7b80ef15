"""Index shards as Ray actors: one actor per shard, reached by :class:`search.serve.sharded.ShardedEngine`.

``aisle serve --ray [--address ADDR]`` starts (or joins) a Ray cluster, puts one :class:`ShardActor` per shard
of the current snapshot (``<home>/shards/<version>/shard-<k>``, written by ``aisle index --shards N``) and
serves the HTTP API over a :class:`ShardedEngine` whose scatter calls go to the actors in parallel.

* **Down shards**: a call that fails (the actor died, its node left, it timed out after
  ``timeout_s``, or it serves another version) is :class:`ShardUnavailableError` for that shard; the answer
  comes from the others with ``partial: true, missing_shards: [k]``. Actors restart on their own after a
  crash (``max_restarts``), reloading their shard; one killed for good stays missing until the next connect.
* **Hot swap**: on a new snapshot the engine connects again; each actor loads its new shard on its own
  (:meth:`ShardActor.swap`); until it has, requests for the new version count it as missing.

Ray is optional (``pip install 'aisle[ray]'``): this module is the only one on the serving path that imports it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from indexer.build.ray_embed import ray_module
from indexer.build.shards import shard_paths, shards_dir
from indexer.errors import ShardUnavailableError
from search.retrieval.shards import ShardIndex, ShardSet
from search.serve.sharded import shard_set


def _ray() -> Any:
    return ray_module()


def init_ray(address: str | None = None, *, num_cpus: int | None = None) -> Any:
    """Join the Ray cluster at ``address`` (or start a local one); the ray module."""
    return ray_module(address, num_cpus=num_cpus)


class ShardActor:
    """The body of one shard actor (made remote by :class:`RayShards`): a :class:`ShardIndex` that can swap."""

    def __init__(self, folder: str) -> None:
        self.index = ShardIndex(Path(folder))

    def swap(self, folder: str) -> str:
        """Load another build of this shard (a new snapshot version); the version now served."""
        self.index = ShardIndex(Path(folder))
        return self.index.version

    def call(self, method: str, *args: Any) -> Any:
        """Run one :class:`ShardIndex` method."""
        return getattr(self.index, method)(*args)


class RayClient:
    """One shard's actor as a :class:`search.retrieval.shards.ShardClient`."""

    def __init__(self, shard: int, actor: Any, timeout_s: float) -> None:
        self.shard, self.actor, self.timeout_s = shard, actor, timeout_s

    def submit(self, method: str, *args: Any) -> Any:
        """Send the call (returns at once)."""
        try:
            return self.actor.call.remote(method, *args)
        except Exception as exc:  # a handle to an actor gone for good can refuse at once
            return exc

    def result(self, pending: Any) -> Any:
        """Wait for the answer; ShardUnavailableError when the actor is down, late or on another version."""
        if isinstance(pending, Exception):
            raise ShardUnavailableError(f"shard {self.shard} is down ({type(pending).__name__})")
        ray = _ray()
        try:
            return ray.get(pending, timeout=self.timeout_s)
        except ray.exceptions.RayError as exc:
            raise ShardUnavailableError(f"shard {self.shard} did not answer ({type(exc).__name__})") from None
        except ShardUnavailableError:
            raise


class RayShards:
    """The shard actors of a workspace; :meth:`connect` is the ``connect`` of a :class:`ShardedEngine`."""

    def __init__(self, home: Path, *, timeout_s: float = 10.0, max_restarts: int = 3) -> None:
        self.home = Path(home)
        self.timeout_s = timeout_s
        self.max_restarts = max_restarts
        self.actors: dict[int, Any] = {}

    def _new(self, folder: Path) -> Any:
        ray = _ray()
        remote = ray.remote(num_cpus=0, max_restarts=self.max_restarts)(ShardActor)
        return remote.remote(str(folder))

    def connect(self, snapshot: Any) -> ShardSet:
        """Actors for ``snapshot``'s shards: new ones started, running ones swapped to this version."""
        ray = _ray()
        folders = shard_paths(shards_dir(self.home, snapshot.version))
        for k, folder in enumerate(folders):
            if k not in self.actors:
                self.actors[k] = self._new(folder)
                continue
            try:  # each actor swaps on its own; one that fails stays on its old version (missing until fixed)
                ray.get(self.actors[k].swap.remote(str(folder)), timeout=self.timeout_s * 3)
            except ray.exceptions.RayError:
                self.actors[k] = self._new(folder)
        for k in [k for k in self.actors if k >= len(folders)]:
            ray.kill(self.actors.pop(k))
        clients = [RayClient(k, self.actors[k], self.timeout_s) for k in range(len(folders))]
        return shard_set(clients, folders, snapshot.version, int(snapshot.vectors.shape[1]))

    def kill(self, shard: int) -> None:
        """Stop one shard's actor for good (operations, and the tests of a down shard)."""
        _ray().kill(self.actors[shard], no_restart=True)


def open_ray_engine(workspace: Any, *, address: str | None = None, settings: Any = None,
                    num_cpus: int | None = None, timeout_s: float = 10.0) -> Any:
    """A :class:`ShardedEngine` over Ray actors for ``workspace``'s current snapshot shards."""
    from indexer.build.snapshot import load_current
    from search.serve.sharded import ShardedEngine

    init_ray(address, num_cpus=num_cpus)
    shards = RayShards(workspace.home, timeout_s=timeout_s)
    return ShardedEngine(load_current(workspace), connect=shards.connect, backend=shards, settings=settings,
                         workspace=workspace)
