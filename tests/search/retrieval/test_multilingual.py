"""The optional multilingual dense index (indexer.build.multilingual)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from indexer.build.multilingual import load_vectors


def test_vectors_for_other_rows_are_never_used(tmp_path: Path) -> None:
    np.save(tmp_path / "multilingual.npy", np.eye(2, dtype=np.float32))
    (tmp_path / "multilingual.json").write_text(json.dumps({"doc_ids": ["a", "b"]}))
    assert load_vectors(tmp_path, ["a", "b"]) is not None
    assert load_vectors(tmp_path, ["b", "a"]) is None  # stale: the snapshot's rows moved
    assert load_vectors(tmp_path / "missing", ["a", "b"]) is None


@pytest.mark.slow
def test_an_english_query_is_closest_to_the_foreign_product_of_its_kind() -> None:
    from indexer.build.multilingual import encode, encode_query

    products = encode(["Robuster Rucksack 30L", "Gestrickte Mütze Berg", "Extractor de leche eléctrico"])
    q = encode_query("backpack")
    assert int(np.argmax(products @ q)) == 0
    assert int(np.argmax(products @ encode_query("breast pump"))) == 2
