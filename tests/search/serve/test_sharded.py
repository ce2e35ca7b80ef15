"""The sharded engine over an on-disk snapshot and its shards (`aisle index --shards N`): equal answers, and
the move to a new snapshot version (each shard reloads; the coordinator follows)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from indexer.build.embed import HashingEncoder
from indexer.build.index import build_index
from indexer.build.shards import shard_workspace
from indexer.build.snapshot import load_current
from indexer.errors import ConfigError
from indexer.workspace import Workspace
from search.engine import Engine
from search.schema import Filters, SearchRequest
from search.serve.sharded import ShardedEngine, local_connector
from tests.search.conftest import merchant, product, variant


def _catalog(extra: int = 0) -> tuple[list, list]:  # type: ignore[type-arg]
    ms = [merchant(f"shop{i}.myshopify.com") for i in range(4)]
    ps = [product(f"{c} wool beanie {i}", [variant({"Color": c, "Size": "M"}, price=1000 + i, vid=f"{i}{j}")],
                  m=ms[i % 4], pid=str(i))
          for i, (j, c) in enumerate((j, c) for j in range(3) for c in ("Red", "Blue", "Green", "Black"))]
    ps += [product(f"Navy scarf {k}", [variant({"Color": "Navy"}, vid=f"s{k}")], m=ms[0], pid=f"s{k}")
           for k in range(extra)]
    return ps, ms


def _build(ws: Workspace, extra: int, mark: str) -> None:
    ps, ms = _catalog(extra)
    now = datetime.now(UTC).isoformat()
    build_index(ps, ms, ws, encoder=HashingEncoder(32), crawled_at={p.doc_id: now for p in ps}, watermark=mark)


def test_on_disk_shards_answer_as_the_snapshot_and_follow_a_new_version(tmp_path: Path) -> None:
    ws = Workspace.resolve(tmp_path)
    _build(ws, 0, "w1")
    with pytest.raises(ConfigError, match="index shards"):
        ShardedEngine(ShardedEngine.load_current(ws), connect=local_connector(ws.home), encoder=HashingEncoder(32),
                      workspace=ws)
    first = shard_workspace(ws, 3)
    assert first.rebuilt == [0, 1, 2] and shard_workspace(ws, 3).rebuilt == []  # kept when nothing changed
    single = Engine.open(ws, encoder=HashingEncoder(32))
    connect = local_connector(ws.home)
    coordinator = ShardedEngine.load_current(ws)  # the catalog rows only: what the shards hold is not opened
    assert coordinator.vectors.shape[0] == coordinator.dense.ntotal == len(coordinator.lexical) == 0
    assert len(coordinator.products) == len(single.snapshot.products)
    sharded = ShardedEngine(coordinator, connect=connect, encoder=HashingEncoder(32), workspace=ws)
    for req in (SearchRequest(query="red wool beanie", limit=5), SearchRequest(query="beanie", mode="bm25"),
                SearchRequest(query="beanie", filters=Filters(merchant=["shop1.myshopify.com"]))):
        assert [r.doc_id for r in sharded.search(req).results] == [r.doc_id for r in single.search(req).results]
        assert sharded.search(req).interpreted.languages == single.search(req).interpreted.languages == ["en"]
    _build(ws, 2, "w2")  # two scarves for shop0: its shard only changes
    old = sharded.snapshot.version
    assert not sharded.refresh() and sharded.snapshot.version == old  # its shards are not written yet: wait
    second = shard_workspace(ws, 3)
    owner = second.versions.index(next(v for k, v in enumerate(second.versions) if v != first.versions[k]))
    assert second.rebuilt == [owner] and [v for k, v in enumerate(second.versions) if k != owner] == \
        [v for k, v in enumerate(first.versions) if k != owner]
    assert sharded.refresh()
    assert {k: h.loads for k, h in connect.hosts.items()} == {  # the other shards did not reload
        k: first.versions[k:k + 1] + ([second.versions[k]] if k == owner else []) for k in range(3)}
    resp = sharded.search(SearchRequest(query="navy scarf", mode="bm25"))
    assert resp.snapshot == load_current(ws).version and not resp.partial
    assert {r.title for r in resp.results} >= {"Navy scarf 0", "Navy scarf 1"}
    single = Engine.open(ws, encoder=HashingEncoder(32))
    for q in ("navy scarf", "wool beanie", "red"):
        for mode in ("bm25", "dense", "hybrid"):
            req = SearchRequest(query=q, mode=mode, limit=10)
            a, b = single.search(req), sharded.search(req)
            assert [(r.doc_id, r.score) for r in b.results] == \
                [(r.doc_id, pytest.approx(r.score, rel=1e-5, abs=1e-6)) for r in a.results]


def test_a_new_merchant_moves_no_other_and_rebuilds_one_shard(tmp_path: Path) -> None:
    ws = Workspace.resolve(tmp_path)
    _build(ws, 0, "w1")
    first = shard_workspace(ws, 3)
    before = json.loads((tmp_path / "shards" / "assignment.json").read_text())["merchants"]
    ps, ms = _catalog(0)
    new = merchant("shop9.myshopify.com")
    ps += [product(f"Walnut board {k}", [variant({"Color": "Brown"}, vid=f"w{k}")], m=new, pid=f"w{k}")
           for k in range(2)]
    now = datetime.now(UTC).isoformat()
    build_index(ps, [*ms, new], ws, encoder=HashingEncoder(32), crawled_at={p.doc_id: now for p in ps}, watermark="w2")
    second = shard_workspace(ws, 3)
    after = json.loads((tmp_path / "shards" / "assignment.json").read_text())["merchants"]
    assert {m: after[m] for m in before} == before  # nobody moved
    lightest = min(range(3), key=lambda k: (first.products[k], k))
    assert after[new.merchant_id] == lightest and second.rebuilt == [lightest]
    single = Engine.open(ws, encoder=HashingEncoder(32))
    sharded = ShardedEngine(ShardedEngine.load_current(ws), connect=local_connector(ws.home),
                            encoder=HashingEncoder(32), workspace=ws)
    req = SearchRequest(query="walnut board", limit=5)
    assert [r.doc_id for r in sharded.search(req).results] == [r.doc_id for r in single.search(req).results]
