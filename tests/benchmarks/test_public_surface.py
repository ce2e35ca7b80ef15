"""Benchmarks use only the library's public surface: ``Snapshot.in_memory``, ``Engine.interpret``,
``Engine.catalog``, ``Engine.encode_query``, ``Engine.clear_query_cache`` (no private attribute or name)."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import pytest

from indexer.build.embed import HashingEncoder
from indexer.build.lexical import LexicalIndex
from indexer.build.snapshot import Snapshot
from indexer.build.text import lexical_text, product_text
from indexer.build.vocabulary import Vocabulary
from indexer.crawl.parse import shopify_merchant, shopify_product
from indexer.models import Product
from search.engine import Engine
from search.schema import SearchRequest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
LIBRARY = ("indexer", "search", "cli")


def _private_uses(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            owner = node.value.id if isinstance(node.value, ast.Name) else None
            if owner not in ("self", "cls"):
                found.append(f"{path.name}:{node.lineno} .{node.attr}")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in LIBRARY:
            found += [f"{path.name}:{node.lineno} import {a.name}" for a in node.names if a.name.startswith("_")]
    return found


def test_no_benchmark_touches_private_names() -> None:
    found = [use for path in sorted(BENCHMARKS.glob("*.py")) for use in _private_uses(path)]
    assert not found, "benchmarks reach into private state:\n" + "\n".join(found)


def _raw(pid: int, title: str, colour: str, price: str) -> dict[str, Any]:
    return {"id": pid, "title": title, "handle": f"p-{pid}", "body_html": "<p>Soft cotton</p>", "vendor": "Acme",
            "product_type": "Shirts", "tags": [], "options": [{"name": "Color", "position": 1, "values": [colour]}],
            "variants": [{"id": pid * 10, "title": colour, "option1": colour, "price": price, "available": True}]}


@pytest.fixture(scope="module")
def parts() -> dict[str, Any]:
    merchant = shopify_merchant({"name": "Shop", "myshopify_domain": "shop.myshopify.com", "currency": "USD",
                                 "ships_to_countries": ["US"]}, "https://shop.example")
    raws = [_raw(1, "Red linen shirt", "Red", "30.00"), _raw(2, "Blue cotton shirt", "Blue", "25.00"),
            _raw(3, "Green wool sweater", "Green", "80.00")]
    products = sorted((p for p in (shopify_product(r, merchant) for r in raws) if isinstance(p, Product)),
                      key=lambda p: p.doc_id)
    enc = HashingEncoder(32)
    vectors = enc.encode([product_text(p) for p in products])
    dense = faiss.IndexFlatIP(32)
    dense.add(vectors)
    return {"products": products, "merchants": [merchant], "vectors": vectors, "dense": dense, "encoder": enc,
            "lexical": LexicalIndex.build([lexical_text(p) for p in products]),
            "vocabulary": Vocabulary.build(products)}


def _snapshot(parts: dict[str, Any], **over: Any) -> Snapshot:
    kw = {k: v for k, v in parts.items() if k != "encoder"}
    return Snapshot.in_memory(**{**kw, "model": parts["encoder"].name, **over})


def test_in_memory_snapshot_and_the_public_engine_surface(parts: dict[str, Any]) -> None:
    snap = _snapshot(parts, dense_params={"type": "flat"})
    assert len(snap) == 3 and snap.model == "hashing-32" and snap.manifest["dense"] == {"type": "flat"}
    assert snap.row_of(parts["products"][1].doc_id) == 1 and not snap.path.exists()
    engine = Engine(snap, encoder=parts["encoder"])
    assert engine.catalog is engine.catalog and engine.encoder is parts["encoder"]
    it = engine.interpret(SearchRequest(query="red shirt under $50"))
    assert not it.constraints.empty and "shirt" in it.ranking_text
    vec = engine.encode_query("red shirt")
    assert vec.shape == (32,) and np.allclose(vec, parts["encoder"].encode(["red shirt"])[0])
    engine.clear_query_cache()
    top = engine.search(SearchRequest(query="linen shirt", mode="bm25", limit=1)).results[0]
    assert top.title == "Red linen shirt"


def test_in_memory_snapshot_checks_that_its_parts_agree(parts: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="vectors is 2, there are 3 products"):
        _snapshot(parts, vectors=parts["vectors"][:2])
    with pytest.raises(ValueError, match="FAISS ntotal is 3, there are 2 products"):
        _snapshot(parts, products=parts["products"][:2], vectors=parts["vectors"][:2])
