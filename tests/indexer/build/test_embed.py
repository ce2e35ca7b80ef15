"""Encoders (fake and real) and the embedding cache."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from indexer.build.embed import (
    DEFAULT_MODEL_NAME,
    Encoder,
    HashingEncoder,
    encoder_name,
    load_encoder,
    resolve_device,
)
from indexer.build.embedcache import EmbeddingCache, model_slug
from indexer.errors import ConfigError


def _unit(x: np.ndarray) -> None:
    assert x.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, rtol=1e-5)


def test_hashing_encoder_deterministic_and_normalised() -> None:
    enc = HashingEncoder(32)
    a = enc.encode(["red running shoes", "", "copper bottle"])
    b = HashingEncoder(32).encode(["red running shoes", "", "copper bottle"])
    assert a.shape == (3, 32)
    _unit(a)
    np.testing.assert_array_equal(a, b)
    assert enc.name == "hashing-32" and enc.dim == 32
    assert isinstance(enc, Encoder)


def test_hashing_encoder_shares_words() -> None:
    q, near, far = HashingEncoder(256).encode(["running shoes", "trail running shoes", "copper kettle"])
    assert q @ near > q @ far


def test_names_and_devices() -> None:
    assert encoder_name(None, "torch") == DEFAULT_MODEL_NAME
    assert encoder_name("all-MiniLM-L6-v2", "torch") == DEFAULT_MODEL_NAME
    assert encoder_name("all-MiniLM-L6-v2") == encoder_name(None)
    assert encoder_name("hashing-8") == "hashing-8"
    assert isinstance(load_encoder("hashing-8"), HashingEncoder)
    assert resolve_device("cpu") == "cpu"
    assert resolve_device(None) in ("cpu", "cuda")
    with pytest.raises(ConfigError):
        resolve_device("tpu")
    import torch

    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="CUDA"):
            resolve_device("cuda")


def test_local_directory_name_is_resolved(tmp_path: Path) -> None:
    assert encoder_name(str(tmp_path), "torch") == str(tmp_path.resolve())


def test_bad_local_model_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "junk.txt").write_text("not a model")
    with pytest.raises(ConfigError, match="cannot load embedding model"):
        load_encoder(str(tmp_path), "cpu", backend="torch")


@pytest.mark.slow
def test_real_model_offline(real_encoder) -> None:
    assert real_encoder.name == encoder_name(None)  # the default backend
    assert real_encoder.dim == 384
    vecs = real_encoder.encode(["waterproof hiking boots", "boots for walking in the rain", "espresso machine"])
    _unit(vecs)
    assert vecs[0] @ vecs[1] > vecs[0] @ vecs[2] + 0.2
    assert real_encoder.encode([]).shape == (0, 384)


@pytest.mark.slow
def test_lazy_encoder_loads_on_first_use() -> None:
    enc = load_encoder(None, "cpu", lazy=True, backend="torch")
    assert enc._model is None  # type: ignore[attr-defined]
    assert enc.name == DEFAULT_MODEL_NAME  # the name needs no model
    assert enc.dim == 384


# ---------------------------------------------------------------- embedding cache


def _vecs(n: int, dim: int = 8, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_cache_roundtrip_and_reopen(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path, "m/x")
    v = _vecs(3)
    cache.put(["a", "b", "c"], v)
    assert len(cache) == 3 and "b" in cache
    found = EmbeddingCache(tmp_path, "m/x").lookup(["a", "c", "zz"])
    assert set(found) == {"a", "c"}
    np.testing.assert_array_equal(found["c"], v[2])
    assert EmbeddingCache(tmp_path, "other").lookup(["a"]) == {}
    assert EmbeddingCache(tmp_path, "m/x").lookup(["a"], dim=16) == {}  # another dimension: unusable
    files = sorted(p.name for p in (tmp_path / model_slug("m/x")).iterdir())
    assert files == ["000001.json", "000001.npy"]  # .npy + JSON, no pickle


def test_cache_later_shard_wins_and_compacts(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path, "m")
    for i in range(10):
        cache.put([f"h{i}", "shared"], _vecs(2, seed=i))
    latest = _vecs(2, seed=9)[1]
    np.testing.assert_array_equal(cache.lookup(["shared"])["shared"], latest)
    assert cache.compact(["h9", "shared", "unknown"])
    reopened = EmbeddingCache(tmp_path, "m")
    assert len(reopened) == 2
    np.testing.assert_array_equal(reopened.lookup(["shared"])["shared"], latest)
    assert len(list(reopened.dir.glob("*.npy"))) == 1
    assert not reopened.compact(["h9", "shared"])  # nothing stale: left alone


def test_cache_skips_damaged_shards(tmp_path: Path, caplog) -> None:
    cache = EmbeddingCache(tmp_path, "m")
    cache.put(["a"], _vecs(1))
    cache.put(["b"], _vecs(1, seed=1))
    npy = cache.dir / "000001.npy"
    npy.write_bytes(npy.read_bytes()[:-8])  # truncated
    (cache.dir / "000003.npy").write_bytes(b"orphan from a killed build")
    meta = json.loads((cache.dir / "000002.json").read_text())
    assert meta["rows"] == 1
    reopened = EmbeddingCache(tmp_path, "m")
    assert "a" not in reopened and "b" in reopened
    assert "damaged shard" in caplog.text
    assert reopened.compact(["b"])  # the orphan and the damaged shard go
    assert sorted(p.name for p in reopened.dir.iterdir()) == ["000004.json", "000004.npy"]
