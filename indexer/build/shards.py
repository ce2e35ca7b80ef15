"""Index shards: a snapshot's products partitioned by merchant, each shard its own versioned snapshot.

``aisle index --shards N`` builds the usual snapshot (incrementally: :mod:`indexer.build.index`), then
:func:`shard_workspace` brings the shards up to date with it; ``aisle serve --ray`` serves one Ray actor per
shard (:mod:`search.retrieval.shards`, :mod:`search.serve.ray_shards`). Layout::

    <home>/shards/
        assignment.json      {"shards": N, "merchants": {merchant_id: shard}}: the recorded partition
        shard-<k>/CURRENT    shard k's current version (replaced atomically, as the snapshot's CURRENT)
        shard-<k>/v000004/   one version of shard k: shard.json, doc_ids.npy, vectors.npy, dense.faiss, lexical/
        maps/v000012.json    snapshot v000012 -> the version of each shard that holds its products (written last)

* **Partition** (:func:`assign`): a merchant never spans shards, so a merchant-scoped filter reaches one shard.
  The assignment is recorded and kept: a merchant stays on its shard while the shard count is the same, and a
  new merchant goes to the shard holding the fewest products (the first build places merchants largest first
  the same way), so adding merchants never moves others. Another shard count partitions afresh.
* **Rebuild only what changed**: each shard version has a fingerprint of what it holds (doc ids, vectors, term
  frequencies, model); a shard whose fingerprint equals its current version's is not rewritten, so a change to
  one merchant's products rebuilds that merchant's shard only. Vectors and term frequencies are cut from the
  snapshot just built (its incremental build embedded and tokenized only the changed products); a rebuilt shard
  pays its own FAISS index (exact up to ``EXACT_MAX_ROWS`` rows, IVF above, as a whole snapshot).
* **Rows**: a shard's rows are its products in the snapshot's row order (doc id order for a built snapshot);
  the coordinator maps them to snapshot rows by doc id (``doc_ids.npy``), so ties "by row" break the same way.
* **BM25** (:mod:`indexer.build.shard_lexical`): raw term frequencies, scored at query time with the whole
  catalog's statistics, so a shard's score equals the snapshot's although the other shards changed.
* **Swapping**: a shard version is written to a temporary folder, renamed into place, then its ``CURRENT``
  switched; the map naming every shard's version for the snapshot is written last, atomically: a reader
  (the coordinator) sees a complete, consistent set of shard versions or keeps the one it has.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from indexer.build.dense import EXACT_MAX_ROWS, build_dense, write_dense
from indexer.build.shard_lexical import Postings, split_postings
from indexer.errors import ConfigError
from indexer.fsutil import atomic_write_bytes, fsync_dir, fsync_file

SHARD_FILE = "shard.json"
ASSIGNMENT = "assignment.json"
KEEP_VERSIONS = 3
_VERSION = "v{:06d}"


def shards_root(home: Path) -> Path:
    """``<home>/shards``."""
    return Path(home) / "shards"


def shard_root(home: Path, k: int) -> Path:
    """Where shard ``k``'s versions and ``CURRENT`` live."""
    return shards_root(home) / f"shard-{k}"


def assign(sizes: dict[str, int], n: int, previous: dict[str, int] | None = None) -> dict[str, int]:
    """Shard of each merchant (``sizes``: products per merchant): ``previous`` places kept, the others largest
    first to the shard holding the fewest products (ties: merchant id, then the lowest shard)."""
    if n < 1:
        raise ConfigError(f"the shard count must be at least 1, got {n}")
    kept = {m: k for m, k in (previous or {}).items() if m in sizes and 0 <= k < n}
    load = [0] * n
    for m, k in kept.items():
        load[k] += sizes[m]
    out = dict(kept)
    for m in sorted((m for m in sizes if m not in kept), key=lambda m: (-sizes[m], m)):
        k = min(range(n), key=lambda i: (load[i], i))
        out[m] = k
        load[k] += sizes[m]
    return out


def _rows_by_shard(merchant_of: Sequence[str], n: int, previous: dict[str, int] | None) -> tuple[
        list[np.ndarray], dict[str, int]]:
    sizes: dict[str, int] = {}
    for m in merchant_of:
        sizes[m] = sizes.get(m, 0) + 1
    placed = assign(sizes, n, previous)
    owner = np.fromiter((placed[m] for m in merchant_of), dtype=np.int64, count=len(merchant_of))
    return [np.flatnonzero(owner == k).astype(np.int64) for k in range(n)], placed


def partition(products: Sequence[Any], n: int, previous: dict[str, int] | None = None) -> list[np.ndarray]:
    """Rows of ``products`` per shard (``n`` sorted int64 arrays); one merchant's rows are all in one shard."""
    return _rows_by_shard([p.merchant_id for p in products], n, previous)[0]


@dataclass(frozen=True)
class ShardMap:
    """The shard versions that together hold snapshot ``version`` (``maps/<version>.json``)."""

    home: Path
    version: str
    versions: list[str]

    @property
    def n(self) -> int:
        """The shard count."""
        return len(self.versions)

    def folder(self, k: int) -> Path:
        """Shard ``k``'s version folder."""
        return shard_root(self.home, k) / self.versions[k]

    def folders(self) -> list[Path]:
        """Every shard's version folder, in shard order."""
        return [self.folder(k) for k in range(self.n)]


def read_map(home: Path, version: str) -> ShardMap | None:
    """The shard map of snapshot ``version`` (None when its shards are not written yet)."""
    try:
        data = json.loads((shards_root(home) / "maps" / f"{version}.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return ShardMap(Path(home), version, [str(v) for v in data["shards"]])


def require_map(home: Path, version: str) -> ShardMap:
    """:func:`read_map`, or ConfigError saying how to write the shards."""
    found = read_map(home, version)
    if found is None:
        raise ConfigError(f"no index shards for snapshot {version} in {shards_root(home)} "
                          "(build them with `aisle index --shards N`)")
    return found


def current_shard_version(home: Path, k: int) -> str | None:
    """Shard ``k``'s ``CURRENT`` (None when it has none)."""
    try:
        return (shard_root(home, k) / "CURRENT").read_text("utf-8").strip() or None
    except OSError:
        return None


@dataclass
class ShardReport:
    """What one shard update did (``aisle index --shards N --json`` prints :meth:`to_dict` under ``shards``)."""

    version: str  # the snapshot
    shards: int
    versions: list[str] = field(default_factory=list)  # each shard's version now
    rebuilt: list[int] = field(default_factory=list)  # shards written by this update
    products: list[int] = field(default_factory=list)  # products per shard
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _fingerprint(info: dict[str, Any], ids: np.ndarray, vectors: np.ndarray, post: Postings) -> str:
    h = hashlib.sha256(json.dumps(info, sort_keys=True).encode())
    for arr in (ids, vectors, post.indptr, post.docs, post.tf, post.doc_len):
        h.update(np.ascontiguousarray(arr).tobytes())
        h.update(b"|")
    h.update(json.dumps(post.vocab, ensure_ascii=False).encode())
    return h.hexdigest()


def _next_version(root: Path) -> str:
    nums = [int(p.name[1:]) for p in root.glob("v*") if p.name[1:].isdigit()] if root.is_dir() else []
    return _VERSION.format(max(nums, default=0) + 1)


def _write_version(root: Path, info: dict[str, Any], ids: np.ndarray, vectors: np.ndarray, post: Postings,
                   exact_max_rows: int) -> str:
    """Write one shard version (temp folder, fsync, rename), then switch the shard's ``CURRENT`` to it."""
    root.mkdir(parents=True, exist_ok=True)
    version = _next_version(root)
    tmp = root / f".build-{version}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    np.save(tmp / "doc_ids.npy", ids, allow_pickle=False)
    np.save(tmp / "vectors.npy", vectors, allow_pickle=False)
    index, params = build_dense(vectors, exact_max_rows=exact_max_rows)
    write_dense(index, str(tmp / "dense.faiss"))
    written = [tmp / "doc_ids.npy", tmp / "vectors.npy", tmp / "dense.faiss", *post.save(tmp / "lexical")]
    (tmp / SHARD_FILE).write_text(json.dumps({**info, "version": version, "dense": params}, indent=1), "utf-8")
    for f in [*written, tmp / SHARD_FILE]:
        fsync_file(f)
    fsync_dir(tmp / "lexical")
    fsync_dir(tmp)
    os.replace(tmp, root / version)
    fsync_dir(root)
    atomic_write_bytes(root / "CURRENT", f"{version}\n".encode())
    return version


def _current_fingerprint(home: Path, k: int) -> tuple[str | None, str | None]:
    version = current_shard_version(home, k)
    try:
        info = json.loads((shard_root(home, k) / str(version) / SHARD_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        return None, None
    return version, info.get("fingerprint")


def _read_assignment(home: Path, n: int) -> dict[str, int] | None:
    try:
        data = json.loads((shards_root(home) / ASSIGNMENT).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return {str(m): int(k) for m, k in data["merchants"].items()} if int(data.get("shards", 0)) == n else None


def _merchant_of(snapshot: Any) -> list[str]:
    """The merchant of every row. Products held in memory say it; a memory-mapped snapshot's are read from the doc
    ids (``{platform}:{merchant_id}:{product_id}``, :mod:`indexer.models`) instead of decoding every product
    (10 s of a 21 s shard update at 100k products)."""
    if isinstance(snapshot.products, (tuple, list)):
        return [p.merchant_id for p in snapshot.products]
    found = [d.split(":", 2)[1] if d.count(":") >= 2 else "" for d in snapshot.doc_ids()]
    if set(found) <= set(snapshot.merchants):
        return found
    return [p.merchant_id for p in snapshot.products]  # a doc id not of that form: decode


def write_shards(snapshot: Any, n: int, home: Path, *, exact_max_rows: int = EXACT_MAX_ROWS) -> ShardReport:
    """Bring ``<home>/shards`` up to date with ``snapshot`` in ``n`` shards (module docstring): rewrite the shards
    whose content changed, keep the others, then write the snapshot's shard map and prune old versions.
    ``exact_max_rows``: a shard with more rows gets an approximate (IVF) index (benchmarks lower it)."""
    started = time.perf_counter()
    home = Path(home)
    merchant_of = _merchant_of(snapshot)
    parts, placed = _rows_by_shard(merchant_of, n, _read_assignment(home, n))
    root = shards_root(home)
    root.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(root / ASSIGNMENT, json.dumps({"shards": n, "merchants": placed}, indent=0).encode())
    owner, local = np.zeros(len(merchant_of), np.int64), np.zeros(len(merchant_of), np.int64)
    for k, rows in enumerate(parts):
        owner[rows], local[rows] = k, np.arange(len(rows))
    postings = split_postings(snapshot.lexical, owner, local, n)
    ids_all = np.asarray([d.encode("utf-8") for d in snapshot.doc_ids()], dtype=bytes)
    dim = int(snapshot.vectors.shape[1])
    params = snapshot.lexical.params
    report = ShardReport(snapshot.version, n)
    for k, rows in enumerate(parts):
        vectors = np.ascontiguousarray(np.asarray(snapshot.vectors[rows], dtype=np.float32).reshape(len(rows), dim))
        info = {"shard": k, "shards": n, "model": str(snapshot.manifest.get("model", "")), "dim": dim,
                "products": len(rows), "k1": float(params["k1"]), "b": float(params["b"]),
                "exact_max_rows": exact_max_rows,
                "merchants": sorted({merchant_of[int(r)] for r in rows})}
        ids = ids_all[rows] if len(rows) else np.zeros(0, "S1")
        info["fingerprint"] = _fingerprint(info, ids, vectors, postings[k])
        version, fingerprint = _current_fingerprint(home, k)
        if version is None or fingerprint != info["fingerprint"]:
            version = _write_version(shard_root(home, k), info, ids, vectors, postings[k], exact_max_rows)
            report.rebuilt.append(k)
        report.versions.append(version)
        report.products.append(len(rows))
    (root / "maps").mkdir(exist_ok=True)
    atomic_write_bytes(root / "maps" / f"{snapshot.version}.json",
                       json.dumps({"version": snapshot.version, "shards": report.versions}).encode())
    prune_shards(home, n)
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def prune_shards(home: Path, n: int, keep: int = KEEP_VERSIONS) -> None:
    """Drop shard maps of snapshots gone from ``<home>/indexes`` and shard versions no map names (keeping each
    shard's ``keep`` newest and its current one); shards ``>= n`` go when no map names them."""
    root = shards_root(home)
    indexes = Path(home) / "indexes"
    named: set[tuple[str, str]] = set()
    for f in sorted((root / "maps").glob("v*.json")):
        if indexes.is_dir() and not (indexes / f.stem).is_dir():
            f.unlink(missing_ok=True)
            continue
        m = read_map(home, f.stem)
        named |= {(f"shard-{k}", v) for k, v in enumerate(m.versions)} if m else set()
    for shard in root.glob("shard-*"):
        versions = sorted(p.name for p in shard.glob("v*") if p.is_dir())
        current = (shard / "CURRENT").read_text("utf-8").strip() if (shard / "CURRENT").is_file() else None
        newest = set(versions[-keep:]) if int(shard.name.split("-")[1]) < n else set()
        for v in versions:
            if (shard.name, v) not in named and v not in newest and v != current:
                shutil.rmtree(shard / v, ignore_errors=True)


def shard_workspace(workspace: Any, n: int) -> ShardReport:
    """Bring the shards of ``workspace``'s current snapshot up to date in ``n`` shards (under the build lock)."""
    from indexer.build.index import build_lock
    from indexer.build.snapshot import load_current

    with build_lock(workspace):
        return write_shards(load_current(workspace), n, workspace.home)


def open_coordinator_snapshot(workspace: Any) -> Any:
    """The current snapshot as a shard coordinator needs it: catalog rows (memory-mapped), merchants, vocabulary and
    manifest, but none of what the shards hold (no vectors, FAISS index or BM25 postings are opened: placeholders
    of no rows stand in, replaced by scatter-gather proxies). Format 2 only (ConfigError: re-index with ``--full``)."""
    import faiss

    from indexer.build.lexical import LexicalIndex
    from indexer.build.rowstore import LazyJson, ProductRows, SortedIds
    from indexer.build.snapshot import Snapshot, current_version, read_manifest, verify_files
    from indexer.build.vocabulary import Vocabulary
    from indexer.errors import NoSnapshotError
    from indexer.models import Merchant

    version = current_version(workspace)
    if version is None:
        raise NoSnapshotError(f"no index snapshot in {workspace.indexes_dir}; run `aisle index` first")
    path = workspace.indexes_dir / version
    manifest = read_manifest(path)
    if manifest.get("format") != 2:
        raise ConfigError(f"snapshot {version} has format {manifest.get('format')}: serving shards needs format 2 "
                          "(re-index with `aisle index --full --shards N`)")
    verify_files(path, manifest, hashes=False)
    dim = int(manifest["dim"])
    merchants = {m["merchant_id"]: Merchant.from_dict(m)
                 for m in json.loads((path / "merchants.json").read_text("utf-8"))}
    return Snapshot(version, path, manifest, ProductRows.open(path), merchants, np.zeros((0, dim), np.float32),
                    faiss.IndexFlatIP(dim), LexicalIndex.reader(path / "lexical"),  # reads queries as the snapshot
                    Vocabulary.from_dict(json.loads((path / "vocabulary.json").read_text("utf-8"))),
                    LazyJson(path / "crawled_at.json"), SortedIds.open(path))
