"""Embedding backends: names, cache keying, the manifest, and the real ONNX int8 path against fp32 PyTorch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from indexer.build.embed import (
    BACKENDS,
    DEFAULT_MODEL_NAME,
    HashingEncoder,
    backend_of,
    check_backend,
    default_backend,
    encoder_name,
    load_encoder,
    split_name,
)
from indexer.build.embedcache import model_slug
from indexer.build.index import build_index
from indexer.build.onnx_encoder import INT8_FILE
from indexer.build.snapshot import load_current
from indexer.build.text import product_text
from indexer.errors import ConfigError
from indexer.workspace import Workspace


def test_the_backend_is_part_of_the_name() -> None:
    assert encoder_name(None, "torch") == DEFAULT_MODEL_NAME  # as before backends: old caches stay valid
    assert encoder_name(None, "onnx-int8") == f"{DEFAULT_MODEL_NAME}+onnx-int8"
    assert encoder_name(None, "onnx") == f"{DEFAULT_MODEL_NAME}+onnx"
    default = encoder_name(None)
    assert backend_of(default) == default_backend() and split_name(default)[0] == DEFAULT_MODEL_NAME
    # a manifest's name keeps its own backend, whatever the default
    assert encoder_name(f"{DEFAULT_MODEL_NAME}+onnx", "torch") == f"{DEFAULT_MODEL_NAME}+onnx"
    assert backend_of(DEFAULT_MODEL_NAME) == "torch" and backend_of("hashing-8") == "hashing"
    assert encoder_name("hashing-8", "onnx-int8") == "hashing-8"
    assert encoder_name("someone/hub-model") == "someone/hub-model"  # by hub name: torch only
    assert len({model_slug(encoder_name(None, b)) for b in BACKENDS}) == len(BACKENDS)  # one cache folder each


def test_bad_backends_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown embedding backend"):
        check_backend("tensorrt")
    with pytest.raises(ConfigError, match="runs on CPU"):
        load_encoder(None, "cuda", backend="onnx-int8", cache_dir=tmp_path)
    with pytest.raises(ConfigError, match="local model directory"):
        load_encoder("someone/hub-model", backend="onnx", cache_dir=tmp_path)
    (tmp_path / "junk.txt").write_text("not a model")
    with pytest.raises(ConfigError, match="backend torch"):
        load_encoder(str(tmp_path), "cpu", backend="onnx-int8", cache_dir=tmp_path / "cache")


class _Named(HashingEncoder):
    """The fake encoder under another backend's name, with vectors that differ by backend."""

    def __init__(self, name: str, seed: int) -> None:
        super().__init__(16)
        self.name = name
        self._seed = seed

    def encode(self, texts, batch_size: int = 64) -> np.ndarray:  # type: ignore[no-untyped-def]
        return np.roll(super().encode(texts, batch_size), self._seed, axis=1)


def test_vectors_of_two_backends_never_mix(tmp_path: Path, small_catalog) -> None:
    merchants, products = small_catalog
    products = products[:12]
    ws = Workspace.resolve(tmp_path / "home")
    torch_enc, int8_enc = _Named("fake", 0), _Named("fake+onnx-int8", 3)
    first = build_index(products, merchants, ws, encoder=torch_enc, watermark="w", crawled_at={})
    assert first.embedded == len(products)
    second = build_index(products, merchants, ws, encoder=int8_enc, watermark="w", crawled_at={})
    assert second.status == "built" and second.embedded == len(products) and second.reused == 0
    snap = load_current(ws)
    assert snap.model == "fake+onnx-int8" and snap.manifest["embedding_backend"] == "onnx-int8"
    for p in products[:3]:  # the snapshot holds the second backend's vectors, not the cached first ones
        row = snap.row_of(p.doc_id)
        assert row is not None
        np.testing.assert_allclose(snap.vectors[row], int8_enc.encode([product_text(p)])[0], atol=1e-6)
    third = build_index(products, merchants, ws, encoder=_Named("fake", 0), watermark="w2", crawled_at={})
    assert third.reused == len(products)  # the first backend's vectors are still its own


def test_the_engine_refuses_an_encoder_of_another_backend(tmp_path: Path, small_catalog) -> None:
    from search.engine import Engine

    merchants, products = small_catalog
    ws = Workspace.resolve(tmp_path / "home")
    build_index(products[:8], merchants, ws, encoder=_Named("fake+onnx-int8", 1), watermark="w", crawled_at={})
    with pytest.raises(ConfigError, match="does not match"):
        Engine(load_current(ws), encoder=_Named("fake", 1))


@pytest.fixture(scope="session")
def onnx_cache() -> Path:
    """Where the test session's ONNX exports live: the user cache (exported once per machine, ~15 s)."""
    return Path.home() / ".cache" / "aisle" / "onnx"


TEXTS = ["Merino wool beanie in red. Brand: Northfield Knits. Type: Hats. Color: Red, Navy; Size: S, M, L",
         "waterproof hiking boots", "Ceramic pour-over coffee dripper, hand thrown, matte white glaze",
         "a scarf, not black", "Kids' rain jacket with reflective piping. Tags: outdoor, rain, children"]


@pytest.mark.slow
def test_onnx_int8_is_close_to_fp32(real_encoder, onnx_cache: Path) -> None:
    """The int8 model's vectors point where the fp32 PyTorch ones do (cosine >= 0.98 per text)."""
    fp32 = load_encoder(None, "cpu", backend="torch")
    int8 = load_encoder(None, "cpu", backend="onnx-int8", cache_dir=onnx_cache)
    onnx32 = load_encoder(None, "cpu", backend="onnx", cache_dir=onnx_cache)
    ref = fp32.encode(TEXTS)
    for enc, bar in ((int8, 0.985), (onnx32, 0.9999)):
        vecs = enc.encode(TEXTS, batch_size=2)  # several batches of different padding: order restored
        assert vecs.shape == ref.shape and vecs.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, rtol=1e-5)
        assert float(np.min(np.sum(ref * vecs, axis=1))) >= bar, enc.name
    assert int8.dim == 384 and int8.encode([]).shape == (0, 384)
    names = {p.name for p in next(onnx_cache.iterdir()).glob("*.onnx")}
    assert {"model.onnx", INT8_FILE} <= names


@pytest.mark.slow
def test_queries_use_the_snapshots_backend(tmp_path: Path, small_catalog, onnx_cache: Path) -> None:
    """A snapshot built with int8 vectors is searched with int8 query vectors, exported into the workspace."""
    from indexer.build.onnx_encoder import OnnxEncoder
    from search.engine import Engine

    merchants, products = small_catalog
    ws = Workspace.resolve(tmp_path / "home")
    enc = load_encoder(None, "cpu", backend="onnx-int8", cache_dir=onnx_cache)
    build_index(products[:10], merchants, ws, encoder=enc, watermark="w", crawled_at={})
    engine = Engine.open(ws)
    vec = engine.encode_query("red wool beanie")
    assert isinstance(engine.encoder, OnnxEncoder) and engine.encoder.name == enc.name
    assert float(vec @ enc.encode(["red wool beanie"])[0]) > 0.9999
    assert list((ws.home / "cache" / "onnx").glob(f"*/{INT8_FILE}"))  # the workspace's own export
