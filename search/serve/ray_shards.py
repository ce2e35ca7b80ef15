"""Index shards as Ray actors: one actor per shard, reached by :class:`search.serve.sharded.ShardedEngine`.

``aisle serve --ray [--address ADDR]`` starts (or joins) a Ray cluster, puts one :class:`ShardActor` per shard
of the current snapshot (named by its shard map, :mod:`indexer.build.shards`; ``aisle index --shards N``) and
serves the HTTP API over a :class:`ShardedEngine` whose scatter calls go to the actors in parallel.

* **Down shards**: a call that fails (the actor died, its node left, it timed out after
  ``timeout_s``, or it serves another version) is :class:`ShardUnavailableError` for that shard; the answer
  comes from the others with ``partial: true, missing_shards: [k]``. Actors restart on their own after a
  crash (``max_restarts``), reloading their shard; one killed for good stays missing until the next connect.
* **Hot swap**: on a new snapshot the engine connects again; only the actors whose shard has a new version
  load it (beside the one they serve, :class:`search.retrieval.shards.ShardHost`); the others are not
  touched. The engine then swaps to the new shard set at once.

Ray is optional (``pip install 'aisle[ray]'``): this module is the only one on the serving path that imports it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from indexer.build.ray_embed import ray_module
from indexer.build.shards import require_map
from indexer.errors import ShardUnavailableError
from search.retrieval.shards import ShardHost, ShardSet
from search.serve.sharded import shard_set


def _ray() -> Any:
    return ray_module()


def init_ray(address: str | None = None, *, num_cpus: int | None = None) -> Any:
    """Join the Ray cluster at ``address`` (or start a local one); the ray module."""
    return ray_module(address, num_cpus=num_cpus)


class ShardActor(ShardHost):
    """The body of one shard actor (made remote by :class:`RayShards`): a :class:`ShardHost`."""

    def __init__(self, folder: str) -> None:
        super().__init__(folder)

    def loaded(self) -> list[str]:
        """Every version this actor loaded, in order (an unchanged shard's list does not grow on a swap)."""
        return list(self.loads)


class RayClient:
    """One shard's actor as a :class:`search.retrieval.shards.ShardClient`."""

    def __init__(self, shard: int, actor: Any, timeout_s: float) -> None:
        self.shard, self.actor, self.timeout_s = shard, actor, timeout_s

    def submit(self, version: str, method: str, *args: Any) -> Any:
        """Send the call (returns at once)."""
        try:
            return self.actor.call.remote(version, method, *args)
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
        """Actors for ``snapshot``'s shard map: new ones started; a running one loads its shard's version only
        when the map names another than it holds (beside the one it serves: no request is left on neither)."""
        ray = _ray()
        smap = require_map(self.home, snapshot.version)
        held = {k: self.actors[k].versions.remote() for k in range(smap.n) if k in self.actors}
        loading = {}
        for k in range(smap.n):  # the changed shards load at once, in parallel; the others are not touched
            try:
                if k not in held:
                    self.actors[k] = self._new(smap.folder(k))
                elif smap.versions[k] not in ray.get(held[k], timeout=self.timeout_s):
                    loading[k] = self.actors[k].load.remote(str(smap.folder(k)))
            except ray.exceptions.RayError:  # down: a fresh actor (this shard is missing until it answers)
                self.actors[k] = self._new(smap.folder(k))
        for k, pending in loading.items():
            try:
                ray.get(pending, timeout=self.timeout_s * 3)
            except ray.exceptions.RayError:
                self.actors[k] = self._new(smap.folder(k))
        for k in [k for k in self.actors if k >= smap.n]:
            ray.kill(self.actors.pop(k))
        clients = [RayClient(k, self.actors[k], self.timeout_s) for k in range(smap.n)]
        return shard_set(clients, smap, snapshot)

    def kill(self, shard: int) -> None:
        """Stop one shard's actor for good (operations, and the tests of a down shard)."""
        _ray().kill(self.actors[shard], no_restart=True)


def open_ray_engine(workspace: Any, *, address: str | None = None, settings: Any = None,
                    num_cpus: int | None = None, timeout_s: float = 10.0) -> Any:
    """A :class:`ShardedEngine` over Ray actors for ``workspace``'s current snapshot shards."""
    from search.serve.sharded import ShardedEngine

    init_ray(address, num_cpus=num_cpus)
    shards = RayShards(workspace.home, timeout_s=timeout_s)
    return ShardedEngine(ShardedEngine.load_current(workspace), connect=shards.connect, backend=shards,
                         settings=settings, workspace=workspace)
