"""The rows of a build: serialised once, fingerprinted, texts derived only for products that changed."""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from indexer.build.bm25 import text_hashes
from indexer.build.embed import HashingEncoder
from indexer.build.index import build_index
from indexer.build.language import product_evidence
from indexer.build.records import RECORDS, plan_rows, record_hash
from indexer.build.rowstore import row_line
from indexer.build.snapshot import load_current
from indexer.build.text import lexical_text, product_text, text_hash
from indexer.models import Merchant, OptionValue, Product, Variant
from indexer.workspace import Workspace

M = Merchant("a.myshopify.com", "shopify", "A", "https://a.myshopify.com", "USD")


def _product(i: int) -> Product:
    v = Variant(f"v{i}", "M / Red", 1000 + i, "USD", True, (OptionValue("Size", "size", "M"),), sku=f"S{i}")
    return Product(f"shopify:a.myshopify.com:{i}", "shopify", M.merchant_id, str(i), f"Wool beanie {i}",
                   f"https://a.myshopify.com/products/{i}", (v,), tags=("wool",))


def test_variant_to_dict_is_asdict() -> None:
    v = _product(1).variants[0]
    want = asdict(v)
    want["options"] = [asdict(o) for o in v.options]
    assert v.to_dict() == want and list(v.to_dict()) == list(want)


def test_only_changed_products_are_derived(tmp_path: Path) -> None:
    ws = Workspace.resolve(tmp_path / "home")
    products = [_product(i) for i in range(30)]
    build_index(products, [M], ws, encoder=HashingEncoder(16), crawled_at={}, watermark="w1")
    folder = Path(load_current(ws).path)
    edited = list(products)
    edited[4] = replace(edited[4], title="Cotton cap")  # text changed
    edited[7] = replace(edited[7], variants=(replace(edited[7].variants[0], price=5),))  # record only
    plan = plan_rows(reversed(edited), tmp_path / "p.jsonl", folder)
    assert plan.reused == 28 and plan.received == 30
    assert sorted(plan.rows[i].doc_id for i in plan.texts) == sorted([edited[4].doc_id, edited[7].doc_id])
    assert [p.doc_id for p in plan.rows] == sorted(p.doc_id for p in edited)
    data = (tmp_path / "p.jsonl").read_bytes()
    for i, p in enumerate(plan.rows):  # what a build from scratch would have: every hash of every row
        line = row_line(p)
        assert data[plan.offsets[i]:plan.offsets[i + 1]] == line
        assert plan.hashes[i] == text_hash(product_text(p)) and plan.text(i) == product_text(p)
        assert int(plan.records[i, 0]) == record_hash(line)
        assert plan.records[i, 1] == text_hashes([lexical_text(p)])[0]
        assert np.array_equal(plan.evidence[i], product_evidence(p))  # kept for the unchanged, bit for bit
    assert dict(plan.dense_texts()) == {plan.hashes[i]: product_text(p) for i, p in enumerate(plan.rows)}
    assert np.array_equal(np.load(folder / RECORDS), plan_rows(products, tmp_path / "q.jsonl", None).records)
    (tmp_path / "old").mkdir()  # a snapshot written before records.npy: every text derived
    for name in ("manifest.json", "idmap.json"):
        (tmp_path / "old" / name).write_text((folder / name).read_text("utf-8"), "utf-8")
    assert plan_rows(edited, tmp_path / "r.jsonl", tmp_path / "old").reused == 0
    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    (tmp_path / "recipe").mkdir()  # another text recipe: nothing reused
    (tmp_path / "recipe" / "manifest.json").write_text(json.dumps({**manifest, "text_recipe": "other"}), "utf-8")
    for name in ("idmap.json", RECORDS):
        (tmp_path / "recipe" / name).write_bytes((folder / name).read_bytes())
    assert plan_rows(edited, tmp_path / "s.jsonl", tmp_path / "recipe").reused == 0
