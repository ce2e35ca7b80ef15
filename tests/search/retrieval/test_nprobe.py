"""EngineSettings.nprobe: the IVF lists a dense search probes, chosen at search time (real FAISS indexes).

None keeps the index's own nprobe (stored at build); a number reaches FAISS for the single snapshot, through the
engine's pipeline, and on every shard of the sharded engine; the shared index object is never changed.
"""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np
import pytest

from indexer.build.embed import HashingEncoder
from indexer.build.ivf import build_ivf
from indexer.build.shards import write_shards
from indexer.errors import ConfigError
from search.engine import Engine, EngineSettings
from search.retrieval.filtered import dense_topk
from search.retrieval.retrieve import dense
from search.schema import SearchRequest
from search.serve.sharded import ShardedEngine, local_connector
from tests.search.conftest import NOW, load_catalog, make_engine, make_snapshot, merchant, product, variant

N, DIM, NLIST = 4000, 32, 64


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray, faiss.Index]:
    rng = np.random.default_rng(5)
    centers = rng.standard_normal((60, DIM)).astype(np.float32)
    x = centers[rng.integers(0, 60, N)] + 0.6 * rng.standard_normal((N, DIM)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    q = rng.standard_normal((30, DIM)).astype(np.float32)  # between clusters: few lists hold the neighbours
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    index, _ = build_ivf(x, nlist=NLIST, nprobe=2)
    return x, q, index


def _recall(x: np.ndarray, qs: np.ndarray, index: faiss.Index, nprobe: int | None) -> float:
    hits = 0
    for q in qs:
        rows, _ = dense_topk(index, x, q, 10, exact_threshold=0, nprobe=nprobe)
        hits += len(set(rows.tolist()) & set(np.argsort(-(x @ q), kind="stable")[:10].tolist()))
    return hits / (10 * len(qs))


def test_none_is_the_index_own_and_a_number_reaches_faiss(data: tuple[np.ndarray, np.ndarray, faiss.Index]) -> None:
    x, qs, index = data
    for q in qs[:10]:  # None = the stored nprobe (2): the very same answer
        a, b = dense_topk(index, x, q, 10, exact_threshold=0), dense_topk(index, x, q, 10, exact_threshold=0, nprobe=2)
        assert a[0].tolist() == b[0].tolist() and a[1].tolist() == b[1].tolist()
    low, own, every = _recall(x, qs, index, 1), _recall(x, qs, index, None), _recall(x, qs, index, NLIST)
    assert low < own < every == 1.0  # more lists, more neighbours found; every list: exact after reranking
    assert faiss.extract_index_ivf(index).nprobe == 2  # the setting is per search, never written to the index


def test_nprobe_under_a_filter(data: tuple[np.ndarray, np.ndarray, faiss.Index]) -> None:
    x, qs, index = data
    allowed = np.arange(0, N, 4, dtype=np.int64)  # 25 %: the base nprobe, not scaled
    for q in qs[:10]:
        rows, _ = dense_topk(index, x, q, 10, allowed, exact_threshold=0, nprobe=NLIST)
        want = allowed[np.argsort(-(x[allowed] @ q), kind="stable")[:10]]
        assert rows.tolist() == want.tolist()


def test_settings_refuse_a_bad_nprobe() -> None:
    assert EngineSettings().nprobe == 64 and EngineSettings(nprobe=None).nprobe is None  # None: the index's own
    assert EngineSettings(nprobe=48).nprobe == 48
    for bad in (0, -3, True):
        with pytest.raises(ConfigError):
            EngineSettings(nprobe=bad)


def test_engine_passes_its_nprobe_to_the_dense_search() -> None:
    m = merchant()
    words = "wool cotton linen silk denim red blue green black white beanie scarf glove sock hat coat".split()
    rng = np.random.default_rng(3)
    ps = [product(" ".join(rng.choice(words, 4)) + f" {i}", [variant()], m=m) for i in range(240)]
    eng = make_engine(ps, [m], settings=EngineSettings(candidate_depth=20, nprobe=None))  # shallow: misses show
    vectors = np.asarray(eng.snapshot.vectors)
    ivf = faiss.IndexIVFFlat(faiss.IndexFlatIP(vectors.shape[1]), vectors.shape[1], 16, faiss.METRIC_INNER_PRODUCT)
    ivf.train(vectors)
    ivf.add(vectors)
    ivf.nprobe = 1
    own, wide, exact = eng.with_dense(ivf), eng.with_dense(ivf), eng.with_dense(None)
    wide.settings = EngineSettings(candidate_depth=20, nprobe=16)  # every list
    differ = 0
    for q in ("wool beanie", "silk scarf", "denim coat", "cotton sock", "red glove"):
        req = SearchRequest(query=q, mode="dense", limit=10, buyable_first=False)
        truth = [r.doc_id for r in exact.search(req).results]
        assert [r.doc_id for r in wide.search(req).results] == truth
        differ += [r.doc_id for r in own.search(req).results] != truth
    assert differ > 0  # nprobe 1 of 16: the index's own setting really misses


def test_sharded_dense_passes_nprobe_to_every_shard(sample_dir: Path, tmp_path: Path) -> None:
    products, merchants = load_catalog(sample_dir, shopify_base=lambda s: f"https://{s}.example",
                                       etsy_api="https://openapi.etsy.com/v3/application")
    snap = make_snapshot(products, merchants)
    write_shards(snap, 2, tmp_path)
    connect = local_connector(tmp_path)
    sharded = ShardedEngine(snap, connect=connect, encoder=HashingEncoder(snap.vectors.shape[1]), clock=lambda: NOW)
    for host in connect.hosts.values():  # type: ignore[attr-defined]
        for shard in host.held.values():  # an approximate index on each shard: one list of 8 probed
            v = np.ascontiguousarray(shard.vectors, dtype=np.float32)
            ivf = faiss.IndexIVFFlat(faiss.IndexFlatIP(v.shape[1]), v.shape[1], 8, faiss.METRIC_INNER_PRODUCT)
            ivf.train(v)
            ivf.add(v)
            ivf.nprobe = 1
            shard.dense = ivf
    vectors = np.asarray(snap.vectors, dtype=np.float32)
    index = sharded.snapshot.dense
    differ = 0
    for q in np.asarray(vectors[:40:4]) + 0.3:
        q = (q / np.linalg.norm(q)).astype(np.float32)
        truth = dense(None, vectors, q, 10).rows.tolist()
        assert dense(index, vectors, q, 10, exact_threshold=0, probe=(8, 0.5)).rows.tolist() == truth
        differ += dense(index, vectors, q, 10, exact_threshold=0).rows.tolist() != truth
    assert differ > 0


def test_single_engine_default_unchanged(sample_dir: Path) -> None:
    products, merchants = load_catalog(sample_dir, shopify_base=lambda s: f"https://{s}.example",
                                       etsy_api="https://openapi.etsy.com/v3/application")
    snap = make_snapshot(products, merchants)
    enc = HashingEncoder(snap.vectors.shape[1])
    a = Engine(snap, encoder=enc, clock=lambda: NOW)
    b = Engine(snap, encoder=enc, clock=lambda: NOW, settings=EngineSettings(nprobe=48))
    req = SearchRequest(query="red wool beanie", mode="hybrid")
    assert [r.doc_id for r in a.search(req).results] == [r.doc_id for r in b.search(req).results]  # flat: exact


def test_nprobe_power_grows_the_lists_under_a_selective_filter(
        data: tuple[np.ndarray, np.ndarray, faiss.Index]) -> None:
    x, qs, index = data
    allowed = np.arange(0, N, 40, dtype=np.int64)  # 2.5 %: base * 4 ** power lists
    hits = {}
    for power in (0.5, 1.5, 3.0):  # 8, 32 and every list of 64 (base 4; 8 lists hold enough allowed rows)
        found = 0
        for q in qs:
            rows, _ = dense_topk(index, x, q, 10, allowed, exact_threshold=0, nprobe=4, nprobe_power=power)
            want = allowed[np.argsort(-(x[allowed] @ q), kind="stable")[:10]]
            found += len(set(rows.tolist()) & set(want.tolist()))
        hits[power] = found
    assert hits[0.5] < hits[1.5] <= hits[3.0] == 10 * len(qs), hits
    with pytest.raises(ConfigError):
        EngineSettings(nprobe_power=-0.5)
