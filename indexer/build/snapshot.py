"""Versioned, immutable search snapshots: load, verify, the ``CURRENT`` pointer, retention.

Public surface (stable; search/ depends on it)::

    @dataclass(frozen=True)
    class Snapshot:
        version: str
        path: Path
        manifest: dict[str, Any]
        products: Sequence[Product]            # row i <-> vector i <-> lexical doc i (format 2: read lazily)
        merchants: dict[str, Merchant]         # merchant_id -> Merchant
        vectors: np.ndarray                    # (N, dim) float32, L2-normalised (read-only memory map)
        dense: faiss.Index                     # inner product over `vectors`, ids = row numbers
        lexical: LexicalIndex                  # BM25 over the same product text
        vocabulary: Vocabulary
        crawled_at: Mapping[str, str]          # doc_id -> ISO time its data was last read from the merchant
        rows: Mapping[str, int]                # doc_id -> row (format 2: a sorted lookup, not a dict)
        def row_of(self, doc_id: str) -> int | None
        @classmethod
        def in_memory(*, products, merchants, vectors, dense, lexical, vocabulary, model, ...) -> Snapshot

    def load_current(workspace, *, verify_hashes=False) -> Snapshot
    def current_version(workspace) -> str | None    # one small read: cheap enough to poll for hot swaps
    def load_version(workspace, version, *, verify_hashes=False) -> Snapshot
    # building: indexer.build.index.build_index / index_workspace

Layout of ``<home>/indexes/``::

    CURRENT                 the current version name (replaced atomically: temp, fsync, rename, fsync dir)
    v000007/                one complete snapshot (files read-only once written)
        manifest.json       model, dim, counts, watermark, FAISS type+params, stage seconds,
                            {file: {bytes, sha256}} for every other file
        products.jsonl      Product.to_dict() per row      merchants.json   crawled_at.json
        products.offsets.npy, ids.sorted.npy, ids.rows.npy   rows by offset, doc_id -> row (rowstore)
        idmap.json          doc_id and text sha256 per row (the next build diffs against it)
        records.npy         record hash and lexical text hash per row, evidence.npy its language evidence
                            (indexer.build.records; optional: a snapshot without them is read the same, only
                            its next build derives every text)
        vectors.npy         float32 (N, dim)               dense.faiss      FAISS index, ids = rows
        lexical/            bm25s files (.npy + JSON)      vocabulary.json
    .build-*/  .trash-*/    work in progress / being deleted: never read
    .derived/v000007/       what a reader derives from v000007 once (search.filter.columns); pruned with it

Format 2 (:data:`FORMAT`) is opened memory-mapped: no product is read at open (:mod:`indexer.build.rowstore`);
the vectors and the BM25 arrays are memory maps too. A format 1 snapshot (no row files) still opens, by
reading every product into memory as before, with a log line saying to re-index (``aisle index --full``)
for the memory-mapped open; any other format is refused with that advice.

Loading checks every file's size against the manifest (cheap) and, with ``verify_hashes``, its sha256;
then that row counts agree everywhere. A damaged snapshot raises :class:`SnapshotCorruptError` naming
the file; :func:`load_current` then logs a warning and falls back to the newest older version that
loads. A reader keeps whatever it loaded: versions are never modified, and deleting one (retention)
does not disturb a process that has it open.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from indexer.build.dense import apply_search_params, read_dense
from indexer.build.lexical import LexicalIndex
from indexer.build.rowstore import LazyJson, ProductRows, SortedIds
from indexer.build.vocabulary import Vocabulary
from indexer.errors import NoSnapshotError, SnapshotCorruptError
from indexer.fsutil import fsync_dir, sha256_file
from indexer.models import Merchant, Product
from indexer.workspace import Workspace

log = logging.getLogger(__name__)

FORMAT = 2
READABLE_FORMATS = (1, 2)  # 1: products.jsonl read whole at open (no row files)
KEEP_VERSIONS = 3
CURRENT_FILE = "CURRENT"
DERIVED_DIR = ".derived"  # indexes/.derived/<version>/: data readers derive from a version (search's filter columns)
IN_MEMORY_PATH = Path("/nonexistent/aisle-in-memory-snapshot")  # Snapshot.in_memory: no folder on disk
VERSION_RE = re.compile(r"^v(\d{6,})$")

Checkpoint = Callable[[str], None]
"""Called with a stage name at each risky moment of a build (see :func:`no_checkpoint`)."""

CHECKPOINTS = ("embed", "write", "verify", "rename", "switch", "prune")


def no_checkpoint(stage: str) -> None:
    """The default :data:`Checkpoint`: does nothing.

    A build calls its checkpoint at its risky moments (mid-embedding, mid-write, before and after the
    pointer switch, mid-prune: :data:`CHECKPOINTS`). Crash tests pass one that pauses there, kill -9
    the paused build and check that the previous snapshot still loads; production code never pauses.
    """


@dataclass(frozen=True, eq=False)
class Snapshot:
    """One loaded, verified snapshot. Immutable; safe to share between threads for reading."""

    version: str
    path: Path
    manifest: dict[str, Any]
    products: Sequence[Product]
    merchants: dict[str, Merchant]
    vectors: np.ndarray
    dense: faiss.Index
    lexical: LexicalIndex
    vocabulary: Vocabulary
    crawled_at: Mapping[str, str]
    rows: Mapping[str, int] = field(default_factory=dict)  # doc_id -> row

    def __post_init__(self) -> None:
        if not self.rows and len(self.products):
            object.__setattr__(self, "rows", {p.doc_id: i for i, p in enumerate(self.products)})

    @classmethod
    def in_memory(
        cls,
        *,
        products: Sequence[Product],
        merchants: Iterable[Merchant],
        vectors: np.ndarray,
        dense: faiss.Index,
        lexical: LexicalIndex,
        vocabulary: Vocabulary,
        model: str,
        crawled_at: Mapping[str, str] | None = None,
        dense_params: Mapping[str, Any] | None = None,
        version: str = "v000001",
        path: Path = IN_MEMORY_PATH,
    ) -> Snapshot:
        """A snapshot assembled from parts already in memory (no files written or read): for benchmarks
        and tests that build the parts themselves. Row i of ``products``, ``vectors``, ``dense`` and
        ``lexical`` must be the same product; the counts are checked (ValueError when they disagree).
        ``path`` is where the engine looks for side files (multilingual vectors); by default nowhere.
        """
        n = len(products)
        counts = {"vectors": vectors.shape[0] if vectors.ndim == 2 else None, "FAISS ntotal": dense.ntotal,
                  "lexical documents": len(lexical)}
        for what, value in counts.items():
            if value != n:
                raise ValueError(f"in-memory snapshot: {what} is {value}, there are {n} products")
        if dense.d != vectors.shape[1]:
            raise ValueError(f"in-memory snapshot: FAISS d={dense.d}, vectors have {vectors.shape[1]} dimensions")
        by_id = {m.merchant_id: m for m in merchants}
        manifest: dict[str, Any] = {
            "format": FORMAT, "version": version, "model": model, "dim": int(vectors.shape[1]),
            "dense": dict(dense_params or {}), "counts": {"products": n, "merchants": len(by_id)},
        }
        return cls(version=version, path=path, manifest=manifest, products=tuple(products), merchants=by_id,
                   vectors=vectors, dense=dense, lexical=lexical, vocabulary=vocabulary,
                   crawled_at=dict(crawled_at or {}))

    def doc_ids(self) -> list[str]:
        """The doc_id of every row, in row order (memory-mapped: from the sorted ids, reading no product)."""
        if isinstance(self.rows, SortedIds) and len(self.rows) == len(self.products):
            return self.rows.in_row_order()
        return [p.doc_id for p in self.products]

    def row_of(self, doc_id: str) -> int | None:
        """Row number of ``doc_id`` (None if the product is not in this snapshot)."""
        return self.rows.get(doc_id)

    @property
    def model(self) -> str:
        """Name of the embedding model the vectors come from (encode queries with the same one)."""
        return str(self.manifest["model"])

    def __len__(self) -> int:
        return len(self.products)


def _version_number(version: str) -> int:
    m = VERSION_RE.match(version)
    return int(m.group(1)) if m else -1


def list_versions(workspace: Workspace) -> list[str]:
    """Complete-looking version directories (manifest present), oldest first."""
    root = workspace.indexes_dir
    if not root.is_dir():
        return []
    found = [p.name for p in root.iterdir() if VERSION_RE.match(p.name) and (p / "manifest.json").is_file()]
    return sorted(found, key=_version_number)


def current_version(workspace: Workspace) -> str | None:
    """The version ``CURRENT`` names (None when there is none or it is unreadable). One small read."""
    try:
        text = (workspace.indexes_dir / CURRENT_FILE).read_text("utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return text if VERSION_RE.match(text) else None


def next_version(workspace: Workspace) -> str:
    """A version name above every existing one (called under the build lock)."""
    root = workspace.indexes_dir
    names = [p.name for p in root.iterdir()] if root.is_dir() else []
    top = max([_version_number(n) for n in names] + [_version_number(current_version(workspace) or "")], default=0)
    return f"v{max(top, 0) + 1:06d}"


def switch_current(workspace: Workspace, version: str, *, checkpoint: Checkpoint = no_checkpoint) -> None:
    """Point ``CURRENT`` at ``version`` atomically (the version must be complete and verified)."""
    root = workspace.indexes_dir
    tmp = root / f".tmp-{CURRENT_FILE}-{os.getpid()}"
    with open(tmp, "wb") as fh:
        fh.write(f"{version}\n".encode())
        fh.flush()
        os.fsync(fh.fileno())
    checkpoint("switch")  # the new pointer is durable but not yet visible
    os.replace(tmp, root / CURRENT_FILE)
    fsync_dir(root)


def _fail(version: str, what: str) -> SnapshotCorruptError:
    return SnapshotCorruptError(f"snapshot {version} is damaged: {what}")


def read_manifest(path: Path) -> dict[str, Any]:
    """The manifest of the snapshot at ``path``; SnapshotCorruptError if missing or unreadable."""
    try:
        manifest = json.loads((path / "manifest.json").read_text("utf-8"))
    except FileNotFoundError:
        raise _fail(path.name, "manifest.json is missing (incomplete build?)") from None
    except (OSError, ValueError) as exc:
        raise _fail(path.name, f"manifest.json is unreadable ({exc})") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        raise _fail(path.name, "manifest.json is not a snapshot manifest")
    if manifest.get("format") not in READABLE_FORMATS:
        raise _fail(path.name, f"manifest.json has format {manifest.get('format')!r}, this aisle reads "
                               f"{', '.join(map(str, READABLE_FORMATS))}: re-index with `aisle index --full`")
    return manifest


def verify_files(path: Path, manifest: dict[str, Any], *, hashes: bool) -> None:
    """Every file of the manifest exists with its recorded size (and sha256 when ``hashes``)."""
    for rel, meta in manifest["files"].items():
        file = path / rel
        try:
            size = file.stat().st_size
        except OSError:
            raise _fail(path.name, f"{rel} is missing") from None
        if size != meta["bytes"]:
            raise _fail(path.name, f"{rel} has {size} bytes, the manifest says {meta['bytes']} (truncated?)")
        if hashes and sha256_file(file) != meta["sha256"]:
            raise _fail(path.name, f"{rel} does not match its sha256 (corrupted)")


def _read_products(file: Path) -> tuple[Product, ...]:
    with open(file, encoding="utf-8") as fh:
        return tuple(Product.from_dict(json.loads(line)) for line in fh if line.strip())


def _read_rows(path: Path, manifest: dict[str, Any]) -> tuple[Sequence[Product], Mapping[str, int],
                                                              Mapping[str, str]]:
    """Products, doc_id -> row and crawled_at: memory-mapped (format 2) or read whole (format 1)."""
    if manifest.get("format") == 1:
        log.info("snapshot %s has format 1: reading every product into memory; re-index "
                 "(`aisle index --full`) for a memory-mapped open", path.name)
        crawled = {str(k): str(v) for k, v in json.loads((path / "crawled_at.json").read_text("utf-8")).items()}
        return _read_products(path / "products.jsonl"), {}, crawled
    return ProductRows.open(path), SortedIds.open(path), LazyJson(path / "crawled_at.json")


def load_snapshot(path: Path, *, verify_hashes: bool = False) -> Snapshot:
    """Load and verify the snapshot in directory ``path`` (no product is read: see the module docstring)."""
    version = path.name
    manifest = read_manifest(path)
    verify_files(path, manifest, hashes=verify_hashes)
    current = "products.jsonl"
    try:
        products, rows, crawled_at = _read_rows(path, manifest)
        current = "merchants.json"
        merchants = {m["merchant_id"]: Merchant.from_dict(m) for m in json.loads((path / current).read_text("utf-8"))}
        current = "vectors.npy"
        # a plain view of the map: numpy.memmap indexes through Python (the candidates' rows, every search)
        vectors = np.load(path / current, mmap_mode="r", allow_pickle=False).view(np.ndarray)
        current = "dense.faiss"
        dense = read_dense(str(path / current))
        apply_search_params(dense, manifest.get("dense", {}))
        current = "lexical/"
        lexical = LexicalIndex.load(path / "lexical")
        current = "vocabulary.json"
        vocabulary = Vocabulary.from_dict(json.loads((path / current).read_text("utf-8")))
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:  # faiss raises RuntimeError
        raise _fail(version, f"{current} cannot be read ({type(exc).__name__}: {exc})") from None
    n = len(products)
    checks = {
        "manifest product count": manifest.get("counts", {}).get("products"),
        "vectors rows": vectors.shape[0] if vectors.ndim == 2 else None,
        "FAISS ntotal": dense.ntotal,
        "lexical documents": len(lexical),
    }
    for what, value in checks.items():
        if value != n:
            raise _fail(version, f"{what} is {value}, products.jsonl has {n} rows")
    if vectors.dtype != np.float32 or vectors.shape[1] != manifest.get("dim") or dense.d != manifest.get("dim"):
        raise _fail(version, f"vectors are {vectors.dtype} {vectors.shape}, FAISS d={dense.d}, "
                             f"manifest dim={manifest.get('dim')}")
    if len(rows) not in (0, n):
        raise _fail(version, f"ids.sorted.npy has {len(rows)} ids, products.jsonl has {n} rows")
    return Snapshot(version, path, manifest, products, merchants, vectors, dense, lexical, vocabulary, crawled_at,
                    rows)


def load_version(workspace: Workspace, version: str, *, verify_hashes: bool = False) -> Snapshot:
    """Load one named version (no fallback)."""
    path = workspace.indexes_dir / version
    if not VERSION_RE.match(version) or not path.is_dir():
        raise NoSnapshotError(f"no snapshot version {version!r} in {workspace.indexes_dir}")
    return load_snapshot(path, verify_hashes=verify_hashes)


def load_current(workspace: Workspace, *, verify_hashes: bool = False) -> Snapshot:
    """The current snapshot, or the newest older one that loads when the current one is damaged.

    Raises :class:`NoSnapshotError` when nothing was ever built, :class:`SnapshotCorruptError`
    (listing every failure) when no version loads.
    """
    versions = list_versions(workspace)
    current = current_version(workspace)
    if current is None:
        if versions:  # a first build killed between its rename and the pointer switch; or CURRENT lost
            log.warning("index pointer %s is missing or unreadable; using the newest complete version",
                        workspace.indexes_dir / CURRENT_FILE)
        candidates = list(reversed(versions))
    else:
        older = [v for v in versions if _version_number(v) < _version_number(current)]
        candidates = [current] + list(reversed(older))
    if not candidates:
        raise NoSnapshotError(f"no index snapshot in {workspace.indexes_dir}; run `aisle index` first")
    failures: list[str] = []
    for version in candidates:
        try:
            snapshot = load_version(workspace, version, verify_hashes=verify_hashes)
        except (SnapshotCorruptError, NoSnapshotError) as exc:
            failures.append(exc.message)
            log.warning("%s; trying the previous version", exc.message)
            continue
        if failures:
            log.warning("serving snapshot %s instead of damaged current %s", version, current)
        return snapshot
    raise SnapshotCorruptError("no usable snapshot: " + "; ".join(failures))


def prune(
    workspace: Workspace,
    *,
    keep: int = KEEP_VERSIONS,
    protect: Iterable[str | None] = (),
    checkpoint: Checkpoint = no_checkpoint,
) -> list[str]:
    """Delete all but the ``keep`` newest versions, never one in ``protect``; returns those deleted.

    A version is renamed to ``.trash-<version>`` (atomically out of sight) before it is removed,
    so a crash mid-delete never leaves a half version that looks complete.
    """
    root = workspace.indexes_dir
    versions = list_versions(workspace)
    protected = {p for p in protect if p} | set(versions[-keep:]) | {current_version(workspace)}
    deleted = []
    for version in versions:
        if version in protected:
            continue
        trash = root / f".trash-{version}"
        os.replace(root / version, trash)
        checkpoint("prune")
        shutil.rmtree(trash, ignore_errors=True)
        shutil.rmtree(root / DERIVED_DIR / version, ignore_errors=True)  # goes with its version
        deleted.append(version)
    return deleted


def clean_leftovers(workspace: Workspace) -> list[str]:
    """Remove ``.build-*`` and ``.trash-*`` directories left by killed builds (call under the build lock)."""
    root = workspace.indexes_dir
    removed = []
    if root.is_dir():
        for p in root.iterdir():
            if p.is_dir() and p.name.startswith((".build-", ".trash-")):
                shutil.rmtree(p, ignore_errors=True)
                removed.append(p.name)
            elif p.is_file() and p.name.startswith(".tmp-"):
                p.unlink(missing_ok=True)
                removed.append(p.name)
    return removed

