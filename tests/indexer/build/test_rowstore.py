"""The memory-mapped rows of a snapshot (format 2), and how older or newer formats open."""

from __future__ import annotations

import json
import os
import stat
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from indexer.build.embed import HashingEncoder
from indexer.build.index import build_index, unchanged_manifest
from indexer.build.rowstore import LazyJson, ProductRows, SortedIds, sorted_ids
from indexer.build.snapshot import FORMAT, load_current
from indexer.errors import SnapshotCorruptError
from indexer.models import Merchant, Product, Variant
from indexer.workspace import Workspace

ENC = HashingEncoder(16)
M = Merchant(merchant_id="m.myshopify.com", platform="shopify", name="M", base_url="https://m.myshopify.com",
             currency="USD")


def _product(i: int) -> Product:
    v = Variant(variant_id=str(i), title="Default Title", price=100 + i, currency="USD", available=True)
    return Product(doc_id=f"shopify:m:{i:03d}", platform="shopify", merchant_id=M.merchant_id, product_id=str(i),
                   title=f"Wool thing {i} – “ünïcode”", url=f"https://m.myshopify.com/products/{i}",
                   variants=(v,))


@pytest.fixture()
def ws(tmp_path: Path) -> Workspace:
    ws = Workspace.resolve(tmp_path / "home")
    build_index([_product(i) for i in range(40)], [M], ws, encoder=ENC, crawled_at={}, watermark="w1")
    return ws


def test_rows_are_read_lazily_and_ids_by_binary_search(ws: Workspace) -> None:
    snap = load_current(ws)
    assert snap.manifest["format"] == FORMAT == 2
    assert isinstance(snap.products, ProductRows) and isinstance(snap.rows, SortedIds)
    assert isinstance(snap.crawled_at, LazyJson)
    want = [_product(i) for i in range(40)]
    assert list(snap.products) == want and snap.products[-1] == want[-1] and snap.products[3:5] == want[3:5]
    assert [snap.row_of(p.doc_id) for p in want] == list(range(40))
    assert snap.row_of("shopify:m:999") is None and snap.row_of("x" * 500) is None and "shopify:m:001" in snap.rows
    with pytest.raises(IndexError):
        snap.products[40]


def test_sorted_ids_round_trip() -> None:
    ids = ["b", "a", "ç", "ab", ""]
    keys, rows = sorted_ids(ids)
    look = SortedIds(keys, rows)
    assert {i: look.get(i) for i in ids} == {i: n for n, i in enumerate(ids)} and len(look) == 5
    assert look.get("zz") is None and look.get(3) is None


def _rewrite_manifest(ws: Workspace, **changes: object) -> None:
    path = ws.indexes_dir / "v000001" / "manifest.json"
    os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
    path.write_text(json.dumps({**json.loads(path.read_text("utf-8")), **changes}), "utf-8")


def test_a_format_1_snapshot_opens_by_reading_every_product(ws: Workspace) -> None:
    _rewrite_manifest(ws, format=1)
    snap = load_current(ws)
    assert isinstance(snap.products, tuple) and isinstance(snap.rows, dict) and snap.row_of("shopify:m:002") == 2
    assert unchanged_manifest(ws, ENC.name, "w1") is None  # the next `aisle index` rebuilds it as format 2


def test_an_unknown_format_says_to_reindex(ws: Workspace) -> None:
    _rewrite_manifest(ws, format=99)
    with pytest.raises(SnapshotCorruptError, match="aisle index --full"):
        load_current(ws)


def test_offsets_that_disagree_with_the_products_are_damage(ws: Workspace) -> None:
    folder = ws.indexes_dir / "v000001"
    with pytest.raises(ValueError, match="offsets"):
        ProductRows(folder / "products.jsonl", np.array([0, 10**9], dtype=np.int64))


def test_a_rebuild_tokenizes_only_what_changed(ws: Workspace, tmp_path: Path) -> None:
    edited = [_product(i) for i in range(41)]
    edited[5] = replace(edited[5], title="Alpaca mittens")
    report = build_index(edited, [M], ws, encoder=ENC, crawled_at={}, watermark="w2")
    assert report.tokenized == 2  # the changed one and the new one
    fresh = Workspace.resolve(tmp_path / "fresh")
    assert build_index(edited, [M], fresh, encoder=ENC, crawled_at={}, watermark="w2").tokenized == 41
    a, b = load_current(ws).lexical, load_current(fresh).lexical
    for q in ("alpaca mittens", "wool thing 7", "ünïcode 40"):
        assert np.array_equal(a.scores(q), b.scores(q))
