"""Write one snapshot directory: every file durable (fsync), read-only, listed in the manifest with its
size and sha256; the manifest is written last, so a directory without one is never a snapshot.

The directory is a private ``.build-*`` folder; :mod:`indexer.build.index` renames it into place only
after :func:`indexer.build.snapshot.load_snapshot` has re-read and verified it.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from indexer.build.dense import write_dense
from indexer.build.lexical import LexicalIndex
from indexer.build.records import save_records
from indexer.build.rowstore import write_rows
from indexer.build.snapshot import Checkpoint, no_checkpoint
from indexer.build.vocabulary import Vocabulary
from indexer.fsutil import fsync_dir, fsync_file, sha256_file
from indexer.models import Merchant, Product

_READ_ONLY = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH


def _json_bytes(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class _Files:
    """Records size and sha256 of each finished file, after making it durable and read-only."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.meta: dict[str, dict[str, Any]] = {}

    def done(self, path: Path, sha256: str | None = None) -> None:
        """``sha256``: the digest computed while the file was written (the verify stage re-reads it anyway)."""
        fsync_file(path)
        os.chmod(path, _READ_ONLY)  # immutable from here on: an accidental write is refused
        self.meta[path.relative_to(self.root).as_posix()] = {"bytes": path.stat().st_size,
                                                             "sha256": sha256 or sha256_file(path)}

    def write_bytes(self, name: str, data: bytes) -> None:
        path = self.root / name
        with open(path, "wb") as fh:
            fh.write(data)
        self.done(path)


def write_snapshot(
    build_dir: Path,
    manifest: dict[str, Any],
    *,
    rows: Sequence[Product],
    merchants: Sequence[Merchant],
    crawled_at: Mapping[str, str],
    hashes: Sequence[str],
    vectors: np.ndarray,
    dense: faiss.Index,
    lexical: LexicalIndex,
    vocabulary: Vocabulary,
    stage_seconds: Mapping[str, float],
    checkpoint: Checkpoint = no_checkpoint,
    written: tuple[Any, str],
    records: np.ndarray,
    evidence: np.ndarray | None = None,
) -> dict[str, Any]:
    """Write all snapshot files into ``build_dir`` (created if needed) and the manifest last; returns the manifest.

    ``written``: ``products.jsonl`` is already in ``build_dir`` (:func:`indexer.build.records.plan_rows` wrote it
    while reading the records), with these row offsets and this sha256. ``records``, ``evidence``: their files.
    """
    build_dir.mkdir(parents=True, exist_ok=True)
    files = _Files(build_dir)

    files.done(build_dir / "products.jsonl", written[1])  # written by plan_rows; its offsets are written[0]
    for path in save_records(build_dir, records, evidence):
        files.done(path)
    for path in write_rows(build_dir, written[0], [p.doc_id for p in rows]):
        files.done(path)
    files.write_bytes("merchants.json", _json_bytes([m.to_dict() for m in merchants]))
    files.write_bytes("crawled_at.json", _json_bytes(dict(crawled_at)))
    files.write_bytes("idmap.json", _json_bytes({"doc_ids": [p.doc_id for p in rows], "text_sha256": list(hashes)}))

    vectors_path = build_dir / "vectors.npy"
    with open(vectors_path, "wb") as fh:
        np.save(fh, np.ascontiguousarray(vectors, dtype=np.float32), allow_pickle=False)
    files.done(vectors_path)
    checkpoint("write")

    dense_path = build_dir / "dense.faiss"
    write_dense(dense, str(dense_path))
    files.done(dense_path)

    lexical_dir = build_dir / "lexical"
    for path in lexical.save(lexical_dir):
        files.done(path)
    fsync_dir(lexical_dir)

    files.write_bytes("vocabulary.json", _json_bytes(vocabulary.to_dict()))

    manifest = {**manifest, "stages": dict(stage_seconds), "files": files.meta,
                "bytes": sum(m["bytes"] for m in files.meta.values())}
    manifest_path = build_dir / "manifest.json"
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), "utf-8")
    fsync_file(manifest_path)
    os.chmod(manifest_path, _READ_ONLY)
    fsync_dir(build_dir)
    return manifest
