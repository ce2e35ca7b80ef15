"""Index shards on a real local Ray cluster: one actor per shard, equal answers, a killed shard is reported.

One 2-CPU cluster for the module (started once: the machine is small and shared).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from indexer.build.embed import HashingEncoder
from indexer.build.shards import write_shards
from search.engine import Engine
from search.schema import SearchRequest
from search.serve.sharded import ShardedEngine
from tests.search.conftest import NOW, load_catalog, make_snapshot

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def engines(ray_cluster: Any, sample_dir: Path,
            tmp_path_factory: pytest.TempPathFactory) -> tuple[Engine, ShardedEngine]:
    from search.serve.ray_shards import RayShards

    products, merchants = load_catalog(sample_dir, shopify_base=lambda s: f"https://{s}.example",
                                       etsy_api="https://openapi.etsy.com/v3/application")
    snap = make_snapshot(products, merchants)
    home = tmp_path_factory.mktemp("home")
    write_shards(snap, 2, home / "shards" / snap.version)
    shards = RayShards(home, timeout_s=30.0)
    enc = HashingEncoder(snap.vectors.shape[1])
    return (Engine(snap, encoder=enc, clock=lambda: NOW),
            ShardedEngine(snap, connect=shards.connect, backend=shards, encoder=enc, clock=lambda: NOW))


def ids(resp: Any) -> list[tuple[str, str, bool]]:
    return [(r.doc_id, r.variant.id, r.match.exact) for r in resp.results]


def test_actors_answer_as_one_snapshot_then_a_killed_shard_is_reported(engines: tuple[Engine, ShardedEngine]) -> None:
    single, sharded = engines
    for q in ("red wool beanie size M under $40", "hiking boots", "walnut cutting board"):
        for mode in ("bm25", "hybrid"):
            req = SearchRequest(query=q, mode=mode, limit=10, include_near=True)
            a, b = single.search(req), sharded.search(req)
            assert ids(b) == ids(a) and not b.partial and b.missing_shards == []
            assert [r.score for r in b.results] == pytest.approx([r.score for r in a.results], rel=1e-5, abs=1e-6)
    assert sharded.shards is not None
    sharded.backend.kill(1)
    resp = sharded.search(SearchRequest(query="hiking boots", limit=10))
    assert resp.partial and resp.missing_shards == [1]
    assert all(sharded.shards.owner[sharded.snapshot.row_of(r.doc_id)] == 0 for r in resp.results)
    assert resp.model_dump()["missing_shards"] == [1]
