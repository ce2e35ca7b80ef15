"""The query encoder (search.retrieval.encoding): which backend answers queries, and that ONNX answers as torch.

The real-model tests build a snapshot of ``data/sample`` with torch vectors and search it with the ONNX fp32
query encoder and with torch, side by side; the fallback to torch is driven by the setting and by a model that
ONNX Runtime cannot run (CLS pooling), not by hiding modules.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from indexer.build.embed import DEFAULT_MODEL_NAME, HashingEncoder, SentenceTransformerEncoder, bundled_model_path
from indexer.errors import ConfigError
from indexer.settings import Settings
from indexer.workspace import Workspace
from search.engine import Engine, EngineSettings
from search.retrieval.encoding import QueryVectors, check_query_backend, load_query_encoder, same_vectors
from search.schema import SearchRequest
from tests.search.conftest import load_catalog


def test_the_setting_is_checked_and_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert check_query_backend("auto") == "auto"
    with pytest.raises(ConfigError, match="unknown query backend 'gpu'"):
        check_query_backend("gpu")
    with pytest.raises(ConfigError, match="unknown query backend"):
        QueryVectors(None, backend="int4")
    assert Settings.from_env({}).query_backend == "auto"
    assert Settings.from_env({"AISLE_QUERY_BACKEND": "torch"}).query_backend == "torch"
    monkeypatch.setenv("AISLE_QUERY_BACKEND", "onnx")
    assert EngineSettings().query_backend == "onnx"  # HTTP worker processes build their settings this way
    monkeypatch.delenv("AISLE_QUERY_BACKEND")
    assert EngineSettings().query_backend == "auto"


def test_torch_and_onnx_vectors_are_one_family() -> None:
    m = DEFAULT_MODEL_NAME
    assert same_vectors(f"{m}+onnx", m) and same_vectors(m, f"{m}+onnx") and same_vectors(m, m)
    assert not same_vectors(f"{m}+onnx-int8", m) and not same_vectors(f"{m}+onnx", f"{m}+onnx-int8")
    assert not same_vectors("other/model+onnx", m) and not same_vectors("hashing-8", "hashing-16")
    # an engine given an ONNX encoder serves a torch-built snapshot of the same model (and no other)
    vectors = QueryVectors(_named(f"{m}+onnx"))
    vectors.check_model(m)
    with pytest.raises(ConfigError, match="does not match"):
        vectors.check_model(f"{m}+onnx-int8")


def test_the_fake_encoder_stays_itself_whatever_the_setting() -> None:
    for backend in ("auto", "onnx", "torch"):
        enc = load_query_encoder("hashing-16", backend)
        assert isinstance(enc, HashingEncoder) and enc.dim == 16


def _named(name: str) -> HashingEncoder:
    enc = HashingEncoder(8)
    enc.name = name
    return enc


# --- the real model ---------------------------------------------------------------------------------------------

QUERIES = ["red wool beanie size M under $40 shipped to Canada", "waterproof hiking boots", "washi tape",
           "a scarf, not black", "Bergwerk backpack under €100 shipped to Germany", "baby bottle",
           "wooden cutting board", "linen dress"]


@pytest.fixture(scope="module")
def sample_home(sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """data/sample indexed with torch vectors (the default build)."""
    from indexer.build.embed import load_encoder
    from indexer.build.index import build_index

    products, merchants = load_catalog(sample_dir, shopify_base=lambda s: f"https://{s}.example",
                                       etsy_api="https://openapi.etsy.com/v3/application")
    ws = Workspace.resolve(tmp_path_factory.mktemp("query-backend-home"))
    build_index(products, merchants, ws, encoder=load_encoder(None, "cpu", backend="torch"), watermark="sample",
                crawled_at={p.doc_id: "2026-01-01T00:00:00+00:00" for p in products})
    return ws


@pytest.mark.slow
def test_onnx_queries_answer_as_torch_queries(sample_home: Workspace) -> None:
    """A torch-built snapshot served with ONNX fp32 query vectors: the same results, in the same order."""
    from indexer.build.onnx_encoder import OnnxEncoder

    settings = EngineSettings(stale_ttl_s=None)
    onnx = Engine.open(sample_home, settings=EngineSettings(stale_ttl_s=None, query_backend="onnx"))
    auto = Engine.open(sample_home, settings=settings)  # the default: ONNX wherever it can run
    torch = Engine.open(sample_home, settings=EngineSettings(stale_ttl_s=None, query_backend="torch"))
    assert auto.settings.query_backend == "auto" and onnx.snapshot.model == DEFAULT_MODEL_NAME
    for q in QUERIES:
        a, b = onnx.encode_query(q), torch.encode_query(q)
        assert float(a @ b) >= 0.9999, q
    assert isinstance(onnx.encoder, OnnxEncoder) and onnx.encoder.name == f"{DEFAULT_MODEL_NAME}+onnx"
    assert isinstance(torch.encoder, SentenceTransformerEncoder) and torch.encoder.name == DEFAULT_MODEL_NAME
    assert list((sample_home.home / "cache" / "onnx").glob("*/model.onnx"))  # exported into the workspace
    for mode in ("hybrid", "dense"):
        for q in QUERIES:
            req = SearchRequest(query=q, mode=mode, limit=10, include_near=True)
            got = [(r.doc_id, r.variant.id, r.match.exact) for r in onnx.search(req).results]
            want = torch.search(req)
            assert got == [(r.doc_id, r.variant.id, r.match.exact) for r in want.results], (mode, q)
            assert [r.doc_id for r in auto.search(req).results] == [g[0] for g in got]
            np.testing.assert_allclose([r.score for r in onnx.search(req).results],
                                       [r.score for r in want.results], atol=1e-3)
    assert isinstance(auto.encoder, OnnxEncoder)


@pytest.mark.slow
def test_a_model_onnx_cannot_run_falls_back_to_torch(tmp_path: Path) -> None:
    """A CLS-pooled model (ONNX here runs mean-pooled ones only): auto answers with torch, onnx says why."""
    src = bundled_model_path()
    model = tmp_path / "cls-model"
    (model / "1_Pooling").mkdir(parents=True)
    for f in src.iterdir():
        if f.is_file():
            os.symlink(f, model / f.name)
    pooling = json.loads((src / "1_Pooling" / "config.json").read_text("utf-8"))
    pooling |= {"pooling_mode_mean_tokens": False, "pooling_mode_cls_token": True}
    (model / "1_Pooling" / "config.json").write_text(json.dumps(pooling))
    cache = tmp_path / "cache"
    with pytest.raises(ConfigError, match="onnx query backend cannot be used.*mean-pooled"):
        load_query_encoder(str(model), "onnx", cache)
    enc = load_query_encoder(str(model), "auto", cache)
    assert isinstance(enc, SentenceTransformerEncoder) and enc.name == str(model.resolve())
    assert enc.encode(["washi tape"]).shape == (1, 384)
    assert not cache.exists()  # nothing was exported for a model ONNX cannot run


@pytest.mark.slow
def test_the_prefetched_query_vector_gives_the_same_answers(sample_home: Workspace) -> None:
    """The real model (ONNX, the default): the query encoded beside the filter or when the ranking asks, the same
    response to the last score, near matches and the relevance floor included (search.retrieval.encoding)."""
    on = Engine.open(sample_home, settings=EngineSettings(stale_ttl_s=None))
    off = Engine.open(sample_home, settings=EngineSettings(stale_ttl_s=None, prefetch_query_vector=False))
    assert on.settings.prefetch_query_vector
    for mode in ("hybrid", "dense"):
        for q in QUERIES:
            req = SearchRequest(query=q, mode=mode, limit=10, include_near=True)
            on.clear_query_cache()
            off.clear_query_cache()
            assert on.search(req).model_dump(exclude={"took_ms"}) == off.search(req).model_dump(exclude={"took_ms"})
