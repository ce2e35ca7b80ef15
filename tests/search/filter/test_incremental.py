"""An incremental build is a full build (issue 14): data/sample built, some products changed, added and removed,
built again on the same workspace; the same catalog built from scratch in another. Every snapshot file but the
manifest is byte-identical, the filter columns hold the same arrays, and every answer is the same in every mode.
With the IVF index forced (``exact_max_rows`` below the catalog), the incremental build reuses the training and,
every list probed at this size, still answers the same.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from indexer.build.embed import HashingEncoder
from indexer.build.index import build_index
from indexer.build.snapshot import load_current, read_manifest
from indexer.models import Merchant, Product
from indexer.workspace import Workspace
from search.engine import Engine, EngineSettings
from search.filter import columns
from search.filter.columns import columns_dir
from search.schema import Context, Filters, SearchRequest
from tests.search.conftest import NOW, load_catalog

ENC = HashingEncoder(64)
QUERIES = ["red wool beanie size M under $40", "hiking boots size 10", "cheapest navy sweater", "notebook",
           "wool hat shipped to Canada", "beanei refreshed", "scarf"]


def _edited(products: list[Product]) -> list[Product]:
    """Texts changed (3), only prices/stock changed (3), one removed, one added (a copy under a new id)."""
    out = list(products)
    for i in (3, 40, 200):
        p = out[i]
        out[i] = replace(p, title=f"{p.title} refreshed", tags=(*p.tags, "refreshed"))
    for i in (5, 77, 300):
        p = out[i]
        out[i] = replace(p, variants=tuple(replace(v, price=(v.price or 0) + 100, available=not v.available)
                                           for v in p.variants))
    new = replace(out[10], doc_id=out[10].doc_id + "-copy", product_id=out[10].product_id + "-copy",
                  title="Refreshed travel notebook")
    del out[150]
    return [*out, new]


def _build(home: Path, versions: list[list[Product]], merchants: list[Merchant], **kw: Any) -> Workspace:
    ws = Workspace.resolve(home)
    for n, products in enumerate(versions):
        crawled = {p.doc_id: "2027-01-15T08:00:00Z" for p in products}
        build_index(products, merchants, ws, encoder=ENC, crawled_at=crawled, watermark=f"w{n}", **kw)
        if n < len(versions) - 1:
            Engine.open(ws, encoder=ENC)  # the columns, as `aisle index` writes them after each build
    return ws


@pytest.fixture(scope="module")
def catalog(sample_dir: Path) -> tuple[list[Product], list[Merchant]]:
    return load_catalog(sample_dir, shopify_base=lambda s: f"https://{s}.myshopify.com",
                        etsy_api="https://openapi.etsy.com/v3/application")


def _engine(ws: Workspace) -> Engine:
    eng = Engine.open(ws, encoder=ENC, settings=EngineSettings())
    eng._clock = lambda: NOW  # the fixed clock of engine tests
    return eng


def _answers(eng: Engine) -> list[dict[str, Any]]:
    out = []
    reqs = [SearchRequest(query=q, mode=m, include_near=near, limit=20)
            for q in QUERIES for m in ("hybrid", "bm25", "dense") for near in (False, True)]
    reqs += [SearchRequest(query=q, buyable_only=True, context=Context(country="CA")) for q in QUERIES]
    reqs.append(SearchRequest(query="", filters=Filters(attributes={"color": ["blue"]}), include_near=True))
    for req in reqs:
        a = eng.search(req).model_dump(mode="json", exclude={"took_ms", "snapshot"})
        a["next_cursor"] = a["next_cursor"] is not None  # signed with a per-workspace key and the version
        out.append(a)
    return out


_NUMBERED = {"data.csc.index.npy", "indices.csc.index.npy", "indptr.csc.index.npy", "lang_df.npy", "tf.npy",
             "vocab.index.json"}


def _postings(folder: Path) -> dict[str, tuple[list[int], list[float], list[int], list[int]]]:
    """term -> (documents, scores, term frequencies, documents per language) of a saved BM25 index, whatever
    the term ids."""
    vocab = json.loads((folder / "vocab.index.json").read_text("utf-8"))
    indptr, indices, data, tf, lang_df = (np.load(folder / f"{n}.npy") for n in (
        "indptr.csc.index", "indices.csc.index", "data.csc.index", "tf", "lang_df"))
    return {w: (indices[indptr[i]:indptr[i + 1]].tolist(), data[indptr[i]:indptr[i + 1]].tolist(),
                tf[indptr[i]:indptr[i + 1]].tolist(), lang_df[i].tolist())
            for w, i in vocab.items() if i < len(indptr) - 1}


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != "manifest.json"}


def test_incremental_build_equals_full_build(catalog: tuple[list[Product], list[Merchant]], tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    products, merchants = catalog
    edited = _edited(products)
    inc = _build(tmp_path / "inc", [products, edited], merchants)
    full = _build(tmp_path / "full", [edited], merchants)
    a, b = load_current(inc), load_current(full)
    assert a.version == "v000002" and b.version == "v000001"
    counts = read_manifest(Path(a.path))["counts"]
    assert (counts["added"], counts["changed"], counts["removed"]) == (1, 3, 1)
    fa, fb = _files(Path(a.path)), _files(Path(b.path))
    assert sorted(fa) == sorted(fb) and "records.npy" in fa and "evidence.npy" in fa
    # every byte of every file; the BM25 term numbering aside (a rebuild numbers new terms after the kept ones)
    assert [k for k in fa if fa[k] != fb[k]] == [f"lexical/{n}" for n in sorted(_NUMBERED)]
    assert _postings(Path(a.path) / "lexical") == _postings(Path(b.path) / "lexical")
    eb = _engine(full)
    with monkeypatch.context() as m:  # the incremental version's columns are merged by row, not a pass
        m.setattr(columns, "_build", lambda *a: pytest.fail("columns built by a pass over the catalog"))
        ea = _engine(inc)
    assert _answers(ea) == _answers(eb)
    ca, cb = columns_dir(ea.snapshot), columns_dir(eb.snapshot)
    arrays = sorted(p.name for p in cb.glob("*.npy"))
    assert arrays == sorted(p.name for p in ca.glob("*.npy")) and arrays
    for name in arrays:
        x, y = np.load(ca / name), np.load(cb / name)
        assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), name
    ma, mb = (json.loads((c / "columns.json").read_text("utf-8")) for c in (ca, cb))
    assert {k: v for k, v in ma.items() if k != "snapshot"} == {k: v for k, v in mb.items() if k != "snapshot"}


def test_ivf_training_is_reused(catalog: tuple[list[Product], list[Merchant]], tmp_path: Path) -> None:
    products, merchants = catalog
    edited = _edited(products)
    inc = _build(tmp_path / "inc", [products, edited], merchants, exact_max_rows=100)
    full = _build(tmp_path / "full", [edited], merchants, exact_max_rows=100)
    da, db = (read_manifest(Path(load_current(w).path))["dense"] for w in (inc, full))
    assert da["type"] == db["type"] == "IndexIVFScalarQuantizer"
    assert (da["training"], da["changed_since_training"], db["training"]) == ("reused", 5, "trained")
    assert load_current(inc).dense.ntotal == len(edited)
    # every list probed at this size (nprobe >= nlist): the search is exhaustive, reranked exactly
    assert _answers(_engine(inc)) == _answers(_engine(full))
    many = _build(tmp_path / "many", [products, products[: len(products) // 2]], merchants, exact_max_rows=100)
    assert read_manifest(Path(load_current(many).path))["dense"]["training"] == "trained"  # half changed: trained
