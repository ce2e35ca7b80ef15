"""The Ray Data embedding pipeline on a real local Ray cluster: the same vectors as the local build.

One 2-CPU cluster for the module. The real model runs once (one actor, a few sample texts); the build-level
check uses the hashing encoder so that it stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from indexer.build.embed import HashingEncoder, load_encoder
from indexer.build.index import build_index
from indexer.build.snapshot import load_current
from indexer.build.text import product_text
from indexer.workspace import Workspace
from tests.search.conftest import load_catalog

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def catalog(sample_dir: Path) -> tuple[list[Any], list[Any]]:
    return load_catalog(sample_dir, shopify_base=lambda s: f"https://{s}.example",
                        etsy_api="https://openapi.etsy.com/v3/application")


def test_the_real_model_gives_the_local_vectors(ray_cluster: Any, catalog: tuple[list[Any], list[Any]]) -> None:
    from indexer.build.ray_embed import RayDataEncoder

    texts = [product_text(p) for p in catalog[0][:24]]
    enc = RayDataEncoder(None, "cpu", workers=1, actor_batch=8)
    local = load_encoder(None, "cpu")
    assert enc.name == local.name and enc.dim == local.dim
    # bf16 (the default backend on an AMX CPU) rounds differently for batches of other shapes (8 vs 64 texts)
    atol = 2e-3 if local.name.endswith("-bf16") else 2e-5
    np.testing.assert_allclose(enc.encode(texts), local.encode(texts), atol=atol)


def test_the_backend_asked_for_reaches_the_actors(ray_cluster: Any, catalog: tuple[list[Any], list[Any]]) -> None:
    # `aisle index --ray` passes the local build's backend (--backend, else the snapshot's: kept_backend); here the
    # fp32 torch one, which differs from the default on a CPU where openvino-bf16 runs (then bf16 vectors would fail)
    from indexer.build.ray_embed import RayDataEncoder

    texts = [product_text(p) for p in catalog[0][:8]]
    enc = RayDataEncoder(None, "cpu", workers=1, actor_batch=8, backend="torch")
    local = load_encoder(None, "cpu", backend="torch")
    assert enc.name == local.name and not enc.name.endswith("-bf16")
    np.testing.assert_allclose(enc.encode(texts), local.encode(texts), atol=2e-5)


def test_a_ray_build_writes_the_local_build_s_snapshot(ray_cluster: Any, catalog: tuple[list[Any], list[Any]],
                                                       tmp_path: Path) -> None:
    from indexer.build.ray_embed import RayDataEncoder

    products, merchants = catalog
    snaps = []
    for name, enc in (("local", HashingEncoder(32)), ("ray", RayDataEncoder("hashing-32", workers=2, actor_batch=16))):
        ws = Workspace.resolve(tmp_path / name)
        report = build_index(products, merchants, ws, encoder=enc, crawled_at={}, watermark="w1", batch_size=50)
        assert report.embedded == len(products)
        snaps.append(load_current(ws))
    a, b = snaps
    assert [p.doc_id for p in a.products] == [p.doc_id for p in b.products]
    assert a.manifest["model"] == b.manifest["model"] == "hashing-32"
    np.testing.assert_allclose(np.asarray(b.vectors), np.asarray(a.vectors), atol=1e-6)
