"""Snapshots: layout, load and verification, fallback on damage, retention, kill -9 at every risky step."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from indexer.build.embed import HashingEncoder
from indexer.build.index import build_index
from indexer.build.snapshot import (
    CHECKPOINTS,
    CURRENT_FILE,
    current_version,
    list_versions,
    load_current,
    load_version,
    prune,
)
from indexer.errors import NoSnapshotError, SnapshotCorruptError
from indexer.models import Product
from indexer.workspace import Workspace

ENC = HashingEncoder(64)


def _build(ws: Workspace, catalog, watermark: str, products: list[Product] | None = None, **kw):
    merchants, all_products = catalog
    return build_index(all_products if products is None else products, merchants, ws, encoder=ENC,
                       crawled_at={p.doc_id: "2026-01-01T00:00:00+00:00" for p in all_products},
                       watermark=watermark, **kw)


def _writable(path: Path) -> Path:
    os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
    return path


def _answers(snapshot, products: list[Product]) -> None:
    """The snapshot is search-ready: a title finds its product lexically and densely."""
    target = products[len(products) // 2]
    rows, _ = snapshot.lexical.search(target.title, 5)
    titles = {snapshot.products[int(r)].title for r in rows}
    assert target.title in titles
    row = snapshot.row_of(target.doc_id)
    assert row is not None
    _, ids = snapshot.dense.search(np.asarray(snapshot.vectors[row:row + 1]), 1)
    assert ids[0][0] == row


@pytest.fixture()
def ws(tmp_path: Path) -> Workspace:
    return Workspace.resolve(tmp_path / "home")


def test_layout_manifest_and_load(ws: Workspace, small_catalog) -> None:
    merchants, products = small_catalog
    report = _build(ws, small_catalog, "w1")
    assert report.status == "built" and report.version == "v000001" and current_version(ws) == "v000001"
    snap = load_current(ws, verify_hashes=True)
    assert snap.version == "v000001" and len(snap) == len(products)
    assert [p.doc_id for p in snap.products] == sorted(p.doc_id for p in products)
    by_id = {p.doc_id: p for p in products}
    assert all(by_id[p.doc_id] == p for p in snap.products)  # lossless round trip
    assert set(snap.merchants) == {m.merchant_id for m in merchants}
    assert snap.vectors.shape == (len(products), 64) and snap.dense.ntotal == len(products)
    assert snap.crawled_at[products[0].doc_id].startswith("2026-01-01")
    assert snap.row_of("nope") is None and snap.model == "hashing-64"
    m = snap.manifest
    assert m["model"] == "hashing-64" and m["dim"] == 64 and m["watermark"] == "w1"
    assert m["counts"]["products"] == len(products) and m["dense"]["type"] == "IndexFlatIP"
    assert {"read", "embed", "lexical", "dense", "vocabulary"} <= set(m["stages"])
    for rel, meta in m["files"].items():
        path = snap.path / rel
        assert path.stat().st_size == meta["bytes"] and len(meta["sha256"]) == 64
        assert not path.stat().st_mode & stat.S_IWUSR  # read-only once written
        if path.suffix == ".npy":
            np.load(path, allow_pickle=False)
    assert {"products.jsonl", "vectors.npy", "dense.faiss", "vocabulary.json", "idmap.json"} <= set(m["files"])
    _answers(snap, products)


def test_no_snapshot(ws: Workspace) -> None:
    with pytest.raises(NoSnapshotError):
        load_current(ws)
    assert current_version(ws) is None and list_versions(ws) == []


def test_truncated_file_falls_back_to_previous(ws: Workspace, small_catalog, caplog) -> None:
    _build(ws, small_catalog, "w1")
    _build(ws, small_catalog, "w2")
    vectors = _writable(ws.indexes_dir / "v000002" / "vectors.npy")
    vectors.write_bytes(vectors.read_bytes()[:-100])
    with pytest.raises(SnapshotCorruptError, match=r"v000002.*vectors.npy.*truncated"):
        load_version(ws, "v000002")
    snap = load_current(ws)
    assert snap.version == "v000001"
    assert "v000002 is damaged" in caplog.text
    _answers(snap, small_catalog[1])


@pytest.mark.parametrize("damage", ["flip_products", "garbage_faiss", "no_manifest", "bad_manifest", "lexical"])
def test_corrupted_file_falls_back(ws: Workspace, small_catalog, damage: str) -> None:
    _build(ws, small_catalog, "w1")
    _build(ws, small_catalog, "w2")
    v2 = ws.indexes_dir / "v000002"
    verify_hashes = False
    if damage == "flip_products":  # same size, still valid JSON: only the hash can tell
        path = _writable(v2 / "products.jsonl")
        data = path.read_bytes()
        i = data.index(b'"title":"') + 9
        path.write_bytes(data[:i] + bytes([data[i] ^ 0x20]) + data[i + 1:])
        verify_hashes = True
        assert load_version(ws, "v000002").version == "v000002"  # sizes alone pass
    elif damage == "garbage_faiss":
        path = _writable(v2 / "dense.faiss")
        path.write_bytes(b"\0" * path.stat().st_size)
    elif damage == "no_manifest":
        (v2 / "manifest.json").unlink()
    elif damage == "bad_manifest":
        _writable(v2 / "manifest.json").write_text("{not json")
    else:
        path = _writable(v2 / "lexical" / "indptr.csc.index.npy")
        path.write_bytes(b"x" * path.stat().st_size)
    with pytest.raises(SnapshotCorruptError):
        load_version(ws, "v000002", verify_hashes=verify_hashes)
    assert load_current(ws, verify_hashes=verify_hashes).version == "v000001"


def test_everything_damaged_is_a_clear_error(ws: Workspace, small_catalog) -> None:
    _build(ws, small_catalog, "w1")
    _writable(ws.indexes_dir / "v000001" / "vocabulary.json").write_text("{}")
    with pytest.raises(SnapshotCorruptError, match="no usable snapshot.*v000001.*vocabulary.json"):
        load_current(ws)


def test_unreadable_pointer_uses_newest_complete_version(ws: Workspace, small_catalog, caplog) -> None:
    _build(ws, small_catalog, "w1")
    _build(ws, small_catalog, "w2")
    (ws.indexes_dir / CURRENT_FILE).write_text("garbage\n")
    assert current_version(ws) is None
    assert load_current(ws).version == "v000002"
    assert "pointer" in caplog.text


def test_retention_keeps_three_and_the_previous(ws: Workspace, small_catalog) -> None:
    for i in range(5):
        report = _build(ws, small_catalog, f"w{i}")
    assert list_versions(ws) == ["v000003", "v000004", "v000005"]
    assert report.deleted_versions == ["v000002"]
    # A rollback pointer to an old version protects it, and so does an explicit protect.
    _build(ws, small_catalog, "w9")
    (ws.indexes_dir / CURRENT_FILE).write_text("v000004\n")
    assert list_versions(ws) == ["v000004", "v000005", "v000006"]
    assert prune(ws, keep=1, protect=["v000005"]) == []
    assert prune(ws, keep=1) == ["v000005"]
    assert list_versions(ws) == ["v000004", "v000006"]


def test_reader_keeps_working_while_newer_versions_replace_it(ws: Workspace, small_catalog) -> None:
    _build(ws, small_catalog, "w0")
    held = load_current(ws)
    for i in range(1, 5):
        _build(ws, small_catalog, f"w{i}")
    assert "v000001" not in list_versions(ws)  # pruned from disk...
    _answers(held, small_catalog[1])  # ...still served from what the reader loaded


def test_unchanged_and_full(ws: Workspace, small_catalog) -> None:
    first = _build(ws, small_catalog, "w1")
    again = _build(ws, small_catalog, "w1")
    assert again.status == "unchanged" and again.version == first.version and list_versions(ws) == ["v000001"]
    full = _build(ws, small_catalog, "w1", full=True)
    assert full.status == "built" and full.version == "v000002"
    assert full.embedded == len(small_catalog[1]) and full.reused == 0


# ---------------------------------------------------------------- kill -9 during a build

# The child process pauses the build at one checkpoint (argv[4]) through the injectable ``checkpoint``
# hook: it announces the pause in a marker file (argv[5]) and sleeps until the test kills it.
_SCRIPT = """
import json, sys, time
from pathlib import Path
from indexer.build.embed import HashingEncoder
from indexer.build.index import build_index
from indexer.models import Merchant, Product
from indexer.workspace import Workspace
home, data_file, watermark, pause_at, marker = sys.argv[1:6]
def pause(stage):
    if stage == pause_at:
        Path(marker).write_text(stage, "utf-8")
        time.sleep(3600)
data = json.load(open(data_file))
products = [Product.from_dict(p) for p in data["products"]]
merchants = [Merchant.from_dict(m) for m in data["merchants"]]
build_index(products, merchants, Workspace.resolve(home), encoder=HashingEncoder(64),
            crawled_at={}, watermark=watermark, checkpoint=pause)
print("finished")
"""


def _killed_build(tmp_path: Path, ws: Workspace, catalog, stage: str, watermark: str) -> None:
    merchants, products = catalog
    changed = [replace(p, title=f"Renamed {p.title}") if i % 10 == 0 else p for i, p in enumerate(products)]
    data = tmp_path / "input.json"
    data.write_text(json.dumps({"products": [p.to_dict() for p in changed],
                                "merchants": [m.to_dict() for m in merchants]}))
    marker = tmp_path / f"paused-{stage}"
    proc = subprocess.Popen([sys.executable, "-c", _SCRIPT, str(ws.home), str(data), watermark, stage, str(marker)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            if proc.poll() is not None:
                raise AssertionError(f"build ended before {stage}: {proc.communicate()}")
            assert time.monotonic() < deadline, f"build never reached {stage}"
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL


def test_checkpoint_hook_sees_every_risky_step(ws: Workspace, small_catalog) -> None:
    seen: list[str] = []
    for i in range(4):  # the fourth build prunes the first version
        _build(ws, small_catalog, f"w{i}", checkpoint=seen.append)
    assert set(seen) == set(CHECKPOINTS)
    assert seen[:5] == ["embed", "write", "verify", "rename", "switch"]


@pytest.mark.parametrize("stage", CHECKPOINTS)
def test_kill_during_build_keeps_a_good_snapshot(tmp_path: Path, ws: Workspace, small_catalog, stage: str) -> None:
    products = small_catalog[1]
    builds = 3 if stage == "prune" else 1  # pruning only starts beyond three versions
    for i in range(builds):
        _build(ws, small_catalog, f"w{i}")
    before = current_version(ws)
    _killed_build(tmp_path, ws, small_catalog, stage, "killed")
    after = current_version(ws)
    if stage == "prune":  # the new version was already current and complete
        assert after == f"v{builds + 1:06d}"
    else:
        assert after == before
    snap = load_current(ws, verify_hashes=True)
    assert snap.version == after
    _answers(snap, products)
    # The next build cleans up, resumes from the cache and succeeds.
    report = _build(ws, small_catalog, "next")
    assert report.status == "built" and current_version(ws) == report.version
    leftovers = [p.name for p in ws.indexes_dir.iterdir() if p.name.startswith((".build-", ".trash-", ".tmp-"))]
    assert leftovers == []
    if stage != "embed":
        assert report.embedded == 0  # the original texts are cached
    load_current(ws, verify_hashes=True)


def test_killed_embedding_is_resumed_from_the_cache(tmp_path: Path, ws: Workspace, small_catalog) -> None:
    merchants, products = small_catalog
    _build(ws, small_catalog, "w0")
    _killed_build(tmp_path, ws, small_catalog, "embed", "killed")
    changed = [replace(p, title=f"Renamed {p.title}") if i % 10 == 0 else p for i, p in enumerate(products)]
    report = _build(ws, small_catalog, "w1", products=changed)
    assert report.embedded == 0 and report.changed == len(range(0, len(products), 10))
