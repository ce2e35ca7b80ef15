"""The OpenVINO backends (fp32 and bf16): the real model against fp32 PyTorch, the manifest, a missing package."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from indexer.build.embed import (
    DEFAULT_BACKEND,
    DEFAULT_MODEL_NAME,
    backend_of,
    default_backend,
    encoder_name,
    load_encoder,
    onnx_cache_dir,
)
from indexer.build.index import build_index
from indexer.build.snapshot import load_current
from indexer.errors import ConfigError
from indexer.workspace import Workspace

TEXTS = ["Merino wool beanie in red. Brand: Northfield Knits. Type: Hats. Color: Red, Navy; Size: S, M, L",
         "waterproof hiking boots", "Ceramic pour-over coffee dripper, hand thrown, matte white glaze",
         "a scarf, not black", "Kids' rain jacket with reflective piping. Tags: outdoor, rain, children",
         "bague en argent ciselée à la main " * 40]  # past the model's 256 word pieces: truncated like torch


def test_openvino_names() -> None:
    assert encoder_name(None, "openvino-bf16") == f"{DEFAULT_MODEL_NAME}+openvino-bf16"
    assert backend_of(f"{DEFAULT_MODEL_NAME}+openvino") == "openvino"


def test_the_default_backend_is_openvino_bf16_on_cpu_else_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("openvino")
    assert DEFAULT_BACKEND == "openvino-bf16"
    assert default_backend("cpu") == "openvino-bf16" and encoder_name(None, device="cpu").endswith("+openvino-bf16")
    assert default_backend("cuda") == "torch"  # a GPU runs PyTorch
    assert encoder_name(None, "torch", device="cpu") == DEFAULT_MODEL_NAME  # an explicit choice wins
    monkeypatch.setitem(sys.modules, "openvino", None)  # the optional package missing: torch, no error
    assert default_backend("cpu") == "torch" and encoder_name(None, device="cpu") == DEFAULT_MODEL_NAME


def test_a_missing_openvino_is_a_clear_config_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "openvino", None)  # import openvino now raises ImportError
    for backend in ("openvino", "openvino-bf16"):
        with pytest.raises(ConfigError, match=r"pip install 'aisle\[openvino\]'"):
            load_encoder(None, "cpu", backend=backend, cache_dir=tmp_path, lazy=True)
    with pytest.raises(ConfigError, match="runs on CPU"):
        load_encoder(None, "cuda", backend="openvino-bf16", cache_dir=tmp_path)


@pytest.mark.slow
def test_openvino_vectors_agree_with_torch_fp32() -> None:
    """fp32: the same vectors (cosine >= 0.9999); bf16: cosine >= 0.999 per text (bf16 rounding only)."""
    pytest.importorskip("openvino")
    cache = Path.home() / ".cache" / "aisle" / "onnx"
    ref = load_encoder(None, "cpu", backend="torch").encode(TEXTS)
    for backend, bar in (("openvino", 0.9999), ("openvino-bf16", 0.999)):
        enc = load_encoder(None, "cpu", backend=backend, cache_dir=cache)
        vecs = enc.encode(TEXTS, batch_size=2)  # several batches of different widths: order restored
        assert vecs.shape == ref.shape and vecs.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, rtol=1e-5)
        assert float(np.min(np.sum(ref * vecs, axis=1))) >= bar, backend
        assert enc.dim == 384 and enc.encode([]).shape == (0, 384)
    assert list(cache.glob("openvino-*/model.xml")) and list(cache.glob("openvino-*/model.bin"))


@pytest.mark.slow
def test_an_openvino_snapshot_records_its_backend_and_queries_use_it(tmp_path: Path, small_catalog) -> None:
    pytest.importorskip("openvino")
    from indexer.build.openvino_encoder import OpenVinoEncoder
    from search.engine import Engine

    merchants, products = small_catalog
    ws = Workspace.resolve(tmp_path / "home")
    enc = load_encoder(None, "cpu", backend="openvino-bf16", cache_dir=onnx_cache_dir(ws), lazy=True)
    build_index(products[:10], merchants, ws, encoder=enc, watermark="w", crawled_at={})
    snap = load_current(ws)
    assert snap.model == f"{DEFAULT_MODEL_NAME}+openvino-bf16"
    assert snap.manifest["embedding_backend"] == "openvino-bf16"
    engine = Engine.open(ws)
    vec = engine.encode_query("red wool beanie")
    assert isinstance(engine.encoder, OpenVinoEncoder) and engine.encoder.name == enc.name
    assert float(vec @ enc.encode(["red wool beanie"])[0]) > 0.9999
    assert list((ws.home / "cache" / "onnx").glob("openvino-*/model.xml"))  # the workspace's own conversion
