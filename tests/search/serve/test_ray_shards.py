"""Index shards on a real local Ray cluster: one actor per shard, equal answers, a killed shard is reported.

One 2-CPU cluster for the module (started once: the machine is small and shared).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from indexer.build.embed import HashingEncoder
from indexer.build.shards import write_shards
from search.engine import Engine
from search.schema import SearchRequest
from search.serve.sharded import ShardedEngine
from tests.search.conftest import NOW, NOW_ISO, load_catalog, make_snapshot

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def engines(ray_cluster: Any, sample_dir: Path,
            tmp_path_factory: pytest.TempPathFactory) -> tuple[Engine, ShardedEngine]:
    from search.serve.ray_shards import RayShards

    products, merchants = load_catalog(sample_dir, shopify_base=lambda s: f"https://{s}.example",
                                       etsy_api="https://openapi.etsy.com/v3/application")
    snap = make_snapshot(products, merchants)
    home = tmp_path_factory.mktemp("home")
    write_shards(snap, 2, home)
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


QUERIES = ["red wool beanie size M under $40", "hiking boots", "a scarf, not black", "walnut cutting board",
           "leather wallet brown", "waterproof trail beanie"]


def _index(ws: Any, products: list[Any], merchants: list[Any], mark: str) -> None:
    from indexer.build.index import build_index

    build_index(products, merchants, ws, encoder=HashingEncoder(64), crawled_at={p.doc_id: NOW_ISO for p in products},
                watermark=mark)


def test_one_merchant_changes_only_its_shard_swaps_and_answers_stay_equal(
        ray_cluster: Any, sample_dir: Path, tmp_path: Path) -> None:
    from indexer.build.shards import shard_workspace
    from indexer.workspace import Workspace
    from search.serve.ray_shards import RayShards

    products, merchants = load_catalog(sample_dir, shopify_base=lambda s: f"https://{s}.example",
                                       etsy_api="https://openapi.etsy.com/v3/application")
    ws = Workspace.resolve(tmp_path)
    _index(ws, products, merchants, "w1")
    first = shard_workspace(ws, 3)
    backend = RayShards(ws.home, timeout_s=30.0)
    enc = HashingEncoder(64)
    sharded = ShardedEngine(ShardedEngine.load_current(ws), connect=backend.connect, backend=backend, encoder=enc,
                            workspace=ws, clock=lambda: NOW)
    old_single = Engine.open(ws, encoder=enc)
    # One merchant's products change (new words in every title, one product gone): the catalog's BM25 statistics
    # move for every shard, but only this merchant's shard holds different products.
    mid = products[0].merchant_id
    mine = [p for p in products if p.merchant_id == mid]
    changed = [dataclasses.replace(p, title=f"{p.title} waterproof trail zephyrquill") for p in mine[1:]]
    _index(ws, [p for p in products if p.merchant_id != mid] + changed, merchants, "w2")
    second = shard_workspace(ws, 3)
    owner = next(k for k, v in enumerate(second.versions) if v != first.versions[k])
    assert second.rebuilt == [owner]
    assert [v for k, v in enumerate(second.versions) if k != owner] == \
        [v for k, v in enumerate(first.versions) if k != owner]
    new_single = Engine.open(ws, encoder=enc)
    probe = SearchRequest(query="waterproof trail beanie", limit=10, include_near=True)
    expected = {old_single.snapshot.version: ids(old_single.search(probe)),
                new_single.snapshot.version: ids(new_single.search(probe))}
    seen: list[Any] = []
    stop = threading.Event()

    def hammer() -> None:  # searches while the engine swaps: each is the old answer or the new, never partial
        while not stop.is_set():
            seen.append(sharded.search(probe))

    worker = threading.Thread(target=hammer)
    worker.start()
    try:
        time.sleep(0.5)
        assert sharded.refresh()
        time.sleep(0.5)
    finally:
        stop.set()
        worker.join()
    assert seen and all(not r.partial and ids(r) == expected[r.snapshot] for r in seen)
    assert seen[-1].snapshot == new_single.snapshot.version
    loaded = {k: ray.get(a.loaded.remote()) for k, a in backend.actors.items()}
    assert loaded == {k: [first.versions[k]] + ([second.versions[k]] if k == owner else []) for k in range(3)}
    for q in QUERIES:
        for mode in ("bm25", "dense", "hybrid"):
            for near in (False, True):
                req = SearchRequest(query=q, mode=mode, limit=10, include_near=near)
                a, b = new_single.search(req), sharded.search(req)
                assert ids(b) == ids(a) and not b.partial, (q, mode, near)
                assert [r.score for r in b.results] == pytest.approx([r.score for r in a.results], rel=1e-5, abs=1e-6)
    hit = sharded.search(SearchRequest(query="zephyrquill", mode="bm25", limit=50))
    assert {r.doc_id for r in hit.results} == {p.doc_id for p in changed}  # the served answer reflects the change
    assert mine[0].doc_id not in {r.doc_id for r in sharded.search(SearchRequest(query=mine[0].title)).results}
    # what `aisle serve --ray` runs: the coordinator opened without vectors, FAISS or postings, new actors
    from search.serve.ray_shards import open_ray_engine

    served = open_ray_engine(ws, timeout_s=30.0)
    req = SearchRequest(query="zephyrquill waterproof", mode="hybrid", limit=10, include_near=True)
    assert ids(served.search(req)) == ids(new_single.search(req))
    assert served.snapshot.version == new_single.snapshot.version
    for k in list(served.backend.actors):
        served.backend.kill(k)
