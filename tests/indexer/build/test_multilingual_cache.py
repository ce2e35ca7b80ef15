"""The multilingual vectors are cached by text hash: a rebuild encodes only texts it has not seen."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from indexer.build import multilingual as ml
from tests.search.conftest import product, variant


def _fake(calls: list[list[str]]) -> Any:
    def encode(texts: Any, **_kw: Any) -> np.ndarray:
        calls.append(list(texts))
        v = np.array([[float(len(t)), 1.0] + [0.0] * 510 for t in texts], dtype=np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)
    return encode


def test_a_rebuild_encodes_only_new_texts_and_rows_follow_the_products(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []
    monkeypatch.setattr(ml, "encode", _fake(calls))
    cache = tmp_path / "cache"
    a, b = product("Wool Beanie", [variant()]), product("Mochila 30L", [variant()])
    ml.write_vectors(tmp_path / "v1", [a, b], cache)
    first = ml.load_vectors(tmp_path / "v1", [a.doc_id, b.doc_id])
    c = product("Extractor de leche", [variant()])
    ml.write_vectors(tmp_path / "v2", [b, c, a], cache)
    assert [len(x) for x in calls] == [2, 1]  # only the new product was encoded the second time
    second = ml.load_vectors(tmp_path / "v2", [b.doc_id, c.doc_id, a.doc_id])
    assert first is not None and second is not None
    assert np.allclose(second[0], first[1]) and np.allclose(second[2], first[0])


def test_a_damaged_cache_is_rebuilt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []
    monkeypatch.setattr(ml, "encode", _fake(calls))
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "vectors.npy").write_bytes(b"not numpy")
    (cache / "keys.json").write_text("[]")
    p = product("Wool Beanie", [variant()])
    ml.write_vectors(tmp_path / "v", [p], cache)
    assert calls == [[ml.multilingual_text(p)]]


def test_a_rebuild_keeps_the_multilingual_vectors_unless_told(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A re-index not told either way writes them again when the current snapshot has them; False drops them."""
    from indexer.build.embed import HashingEncoder
    from indexer.build.index import build_index
    from indexer.workspace import Workspace

    monkeypatch.setattr(ml, "encode", _fake([]))
    ws = Workspace.resolve(tmp_path / "home")
    items = [product("Wool Beanie", [variant()]), product("Mochila 30L", [variant()])]

    def build(watermark: str, **kw: Any) -> Path:
        report = build_index(items, [], ws, encoder=HashingEncoder(8), crawled_at={}, watermark=watermark, **kw)
        return ws.indexes_dir / report.version

    assert not (build("w1") / "multilingual.npy").exists()  # never asked for: none
    assert (build("w2", multilingual=True) / "multilingual.npy").exists()
    assert (build("w3") / "multilingual.npy").exists()  # kept by a plain re-index
    assert not (build("w4", multilingual=False) / "multilingual.npy").exists()
    assert not (build("w5") / "multilingual.npy").exists()
