"""Build a search snapshot from catalog records: embed (with the cache), BM25, FAISS, vocabulary,
write, verify, switch ``CURRENT``, prune. Crash-safe at every step.

Entry points: :func:`build_index` (records in, store-independent) and :func:`index_workspace`
(opens the workspace's DuckDB catalog read-only and calls it; the CLI's ``aisle index``).

Semantics a user can rely on:

* Products are rows sorted by ``doc_id``; a repeated ``doc_id`` keeps its last record.
* Only texts missing from the embedding cache are embedded, and only lexical texts not in the previous
  snapshot are tokenized for BM25 (:mod:`indexer.build.bm25`; the scores are those of a full build).
  ``full=True`` re-embeds and re-tokenizes every product and refreshes the cache (a model replaced in place).
* Without ``full``, a catalog whose watermark, model, text recipe, BM25 analyser and attribute rules equal the
  current snapshot's is reported ``unchanged`` and nothing is built (the model is not even loaded). Every
  crawl moves the watermark (:meth:`indexer.store.store.Store.watermark`), also one that found nothing
  changed, so the next build refreshes ``crawled_at`` with every vector taken from the cache.
* The new version becomes current only after every file is written, fsynced, re-read and checked
  against its sha256; a build killed at any point leaves the previous snapshot current and loadable
  (leftovers are cleaned by the next build). One build at a time per workspace (a lock file).
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from indexer.attributes import ATTRIBUTE_RULES
from indexer.build import multilingual as ml
from indexer.build.dense import EXACT_MAX_ROWS, build_dense
from indexer.build.embed import Encoder, backend_of, encoder_name, kept_backend, load_encoder, onnx_cache_dir
from indexer.build.embedcache import cache_for
from indexer.build.language import product_languages
from indexer.build.lexical import ANALYSER, LexicalIndex
from indexer.build.records import Plan, plan_rows
from indexer.build.rowstore import read_idmap
from indexer.build.snapshot import (
    FORMAT,
    Checkpoint,
    clean_leftovers,
    current_version,
    load_snapshot,
    next_version,
    no_checkpoint,
    prune,
    read_manifest,
    switch_current,
    verify_files,
)
from indexer.build.snapshot_writer import write_snapshot
from indexer.build.text import TEXT_RECIPE_VERSION
from indexer.build.vocabulary import Vocabulary
from indexer.errors import SnapshotCorruptError, SnapshotError
from indexer.fsutil import fsync_dir
from indexer.models import Merchant, Product
from indexer.progress import ProgressCallback, Stages, no_progress
from indexer.workspace import Workspace

CACHE_FLUSH_ROWS = 2048  # vectors are committed to the cache at least this often: a killed build resumes


@dataclass
class BuildReport:
    """What one ``aisle index`` run did (``--json`` prints :meth:`to_dict`)."""

    status: str  # "built" | "unchanged"
    version: str | None
    previous_version: str | None
    model: str
    products: int = 0
    merchants: int = 0
    embedded: int = 0  # products whose text was not in the cache (or all, with full)
    reused: int = 0  # products whose vector came from the cache
    added: int = 0  # doc_ids not in the previous snapshot
    changed: int = 0  # doc_ids whose text changed since the previous snapshot
    removed: int = 0  # doc_ids of the previous snapshot that left the catalog
    tokenized: int = 0  # products whose lexical text was tokenized (new or changed; all with full)
    duplicates: int = 0  # repeated doc_ids in the input (last kept)
    dim: int | None = None
    dense: str | None = None
    watermark: str | None = None
    path: str | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    total_seconds: float = 0.0
    deleted_versions: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@contextmanager
def build_lock(workspace: Workspace) -> Iterator[None]:
    """Exclusive build lock of a workspace; SnapshotError(code="index_busy") if another build holds it."""
    workspace.indexes_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(workspace.indexes_dir / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SnapshotError(f"another index build is running in {workspace.home}", code="index_busy") from None
        yield
    finally:
        os.close(fd)  # closing releases the lock, also when the process is killed


def unchanged_manifest(workspace: Workspace, model: str, watermark: str) -> dict[str, Any] | None:
    """The current manifest when it was built from this watermark, model and text recipe (and its files
    are all there); None when a build is needed."""
    version = current_version(workspace)
    if not version or not watermark:
        return None
    path = workspace.indexes_dir / version
    try:
        manifest = read_manifest(path)
        verify_files(path, manifest, hashes=False)
    except SnapshotCorruptError:
        return None
    same = (manifest.get("watermark") == watermark and manifest.get("model") == model  # an older format rebuilds
            and manifest.get("text_recipe") == TEXT_RECIPE_VERSION and manifest.get("format") == FORMAT
            and (manifest.get("lexical") or {}).get("tokenizer") == ANALYSER  # a new analyser rebuilds BM25
            and manifest.get("attribute_rules", "1") == ATTRIBUTE_RULES)  # new rules: the vocabulary again
    return manifest if same else None


@dataclass(frozen=True)
class _Indexes:
    """The search structures built over one plan's rows."""

    vectors: np.ndarray
    dim: int
    lexical: LexicalIndex
    dense: Any  # faiss.Index
    dense_params: dict[str, Any]
    vocabulary: Vocabulary


def _unchanged_report(
    workspace: Workspace, manifest: Mapping[str, Any], model: str, watermark: str, seconds: float | None = None
) -> BuildReport:
    """The report of a build skipped because ``manifest`` (the current one) already matches the catalog."""
    previous = current_version(workspace)
    return BuildReport("unchanged", previous, previous, model, products=manifest["counts"]["products"],
                       merchants=manifest["counts"]["merchants"], dim=manifest["dim"],
                       dense=manifest["dense"]["type"], watermark=watermark,
                       path=str(workspace.indexes_dir / previous) if previous else None,
                       total_seconds=round(seconds, 3) if seconds is not None else 0.0)


def _plan(products: Iterable[Product], build_dir: Path, workspace: Workspace, report: BuildReport, *,
          full: bool) -> Plan:
    """Read the records into ``build_dir``'s products file (:func:`indexer.build.records.plan_rows`: texts derived
    only for products that changed, unless ``full``) and count what changed since the previous snapshot."""
    folder = workspace.indexes_dir / report.previous_version if report.previous_version else None
    build_dir.mkdir(parents=True)
    plan = plan_rows(products, build_dir / "products.jsonl", None if full else folder)
    before = read_idmap(folder) if folder is not None else {}
    report.duplicates = plan.received - len(plan.rows)
    report.added = sum(1 for p in plan.rows if p.doc_id not in before)
    report.changed = sum(1 for p, h in zip(plan.rows, plan.hashes, strict=True) if before.get(p.doc_id, h) != h)
    report.removed = len(before) - (len(plan.rows) - report.added)
    return plan


def _embed(
    texts: Mapping[str, str], encoder: Encoder, workspace: Workspace, *, full: bool, batch_size: int, stages: Stages,
    checkpoint: Checkpoint = no_checkpoint,
) -> tuple[dict[str, np.ndarray], set[str], int | None]:
    """Vectors for every text hash: cached ones reused, the others embedded and cached.

    Returns (vectors by hash, hashes embedded now, dimension).
    """
    cache = cache_for(workspace.embedding_cache_dir, encoder.name)
    found = {} if full else cache.lookup(texts)
    missing = [h for h in texts if h not in found]
    dim = cache.dim if found else None
    if missing:
        dim = encoder.dim
        if found and cache.dim != dim:  # same name, different model: nothing cached is usable
            found, missing = {}, list(texts)
    # Longest first: batches of similar length waste the least padding.
    missing.sort(key=lambda h: -len(texts[h]))
    stages.total(len(missing))
    chunk = max(batch_size * 4, 64)
    pending_h: list[str] = []
    pending_v: list[np.ndarray] = []
    for start in range(0, len(missing), chunk):
        hashes = missing[start:start + chunk]
        vectors = encoder.encode([texts[h] for h in hashes], batch_size=batch_size)
        if vectors.shape != (len(hashes), dim):
            raise SnapshotError(f"encoder {encoder.name} returned {vectors.shape}, expected ({len(hashes)}, {dim})")
        found.update(zip(hashes, vectors, strict=True))
        pending_h += hashes
        pending_v.append(vectors)
        if len(pending_h) >= CACHE_FLUSH_ROWS or start + chunk >= len(missing):
            cache.put(pending_h, np.concatenate(pending_v))
            pending_h, pending_v = [], []
            checkpoint("embed")
        stages.advance(len(hashes))
    return found, set(missing), dim


def _embed_rows(
    plan: Plan, encoder: Encoder, workspace: Workspace, report: BuildReport, *, full: bool, batch_size: int,
    stages: Stages, checkpoint: Checkpoint,
) -> np.ndarray:
    """The (rows, dim) float32 matrix of the plan's dense texts, through the embedding cache; counts
    embedded and reused products into ``report``."""
    by_hash, embedded, dim = _embed(plan.dense_texts(), encoder, workspace, full=full, batch_size=batch_size,
                                    stages=stages, checkpoint=checkpoint)
    vectors = np.zeros((len(plan.rows), dim if dim is not None else encoder.dim), dtype=np.float32)
    for i, h in enumerate(plan.hashes):
        vectors[i] = by_hash[h]
    report.embedded = sum(1 for h in plan.hashes if h in embedded)
    report.reused = len(plan.rows) - report.embedded
    return vectors


def _build_indexes(plan: Plan, vectors: np.ndarray, report: BuildReport, *, exact_max_rows: int, stages: Stages,
                   previous: Path | None) -> _Indexes:
    """BM25 (tokenizing only texts not in the ``previous`` snapshot), FAISS over ``vectors`` (the previous IVF's
    training reused while little changed), the vocabulary."""
    with stages.stage("lexical"):
        lexical = LexicalIndex.build(plan.lexical_texts(), keys=[p.doc_id for p in plan.rows],
                                     previous=previous / "lexical" if previous else None,
                                     langs=product_languages(plan.rows, own=plan.evidence), analyser=ANALYSER,
                                     hashes=plan.records[:, 1])
    with stages.stage("dense"):
        dense_before = None
        if previous is not None and (previous / "dense.faiss").is_file():
            params = read_manifest(previous).get("dense") or {}
            dense_before = (str(previous / "dense.faiss"), params, report.added + report.changed + report.removed)
        dense, dense_params = build_dense(vectors, exact_max_rows=exact_max_rows, previous=dense_before)
    with stages.stage("vocabulary"):
        vocabulary = Vocabulary.build(plan.rows)
    return _Indexes(vectors, int(vectors.shape[1]), lexical, dense, dense_params, vocabulary)


def _manifest(
    version: str, model: str, watermark: str, plan: Plan, merchants: Sequence[Merchant], report: BuildReport,
    indexes: _Indexes,
) -> dict[str, Any]:
    """The manifest of a new snapshot, without its file list (the writer adds that last)."""
    return {
        "format": FORMAT,
        "version": version,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "model": model,
        "dim": indexes.dim,
        "text_recipe": TEXT_RECIPE_VERSION, "attribute_rules": ATTRIBUTE_RULES,  # vocabulary.json was built by them
        "watermark": watermark,
        "previous": report.previous_version,
        "counts": {"products": len(plan.rows), "merchants": len(merchants),
                   "variants": sum(len(p.variants) for p in plan.rows), "embedded": report.embedded,
                   "reused": report.reused, "added": report.added, "changed": report.changed,
                   "removed": report.removed},
        "dense": indexes.dense_params,
        "lexical": indexes.lexical.params,
    }


def _write_and_verify(
    build_dir: Path, manifest: dict[str, Any], plan: Plan, merchants: Sequence[Merchant],
    crawled_at: Mapping[str, str], indexes: _Indexes, *, stages: Stages, checkpoint: Checkpoint,
) -> None:
    """Write the snapshot into its private build directory, then re-read every byte of it."""
    with stages.stage("write"):
        present = {p.doc_id for p in plan.rows}
        write_snapshot(
            build_dir, manifest, rows=plan.rows, merchants=merchants,
            crawled_at={k: v for k, v in crawled_at.items() if k in present},
            hashes=plan.hashes, vectors=indexes.vectors, dense=indexes.dense, lexical=indexes.lexical,
            vocabulary=indexes.vocabulary, stage_seconds=stages.seconds, checkpoint=checkpoint,
            written=(plan.offsets, plan.products_sha256), records=plan.records, evidence=plan.evidence,
        )
    with stages.stage("verify"):
        checkpoint("verify")
        load_snapshot(build_dir, verify_hashes=True)  # re-read every byte before anyone can see it


def _switch(
    workspace: Workspace, build_dir: Path, version: str, model: str, plan: Plan, report: BuildReport, *,
    stages: Stages, checkpoint: Checkpoint,
) -> Path:
    """Move the verified build into place, point ``CURRENT`` at it, prune old versions and the cache."""
    with stages.stage("switch"):
        final = workspace.indexes_dir / version
        os.replace(build_dir, final)
        fsync_dir(workspace.indexes_dir)
        checkpoint("rename")
        switch_current(workspace, version, checkpoint=checkpoint)
        report.deleted_versions = prune(workspace, protect=[report.previous_version, version],
                                        checkpoint=checkpoint)
        cache_for(workspace.embedding_cache_dir, model).compact(plan.hashes)
    return final


def build_index(
    products: Iterable[Product],
    merchants: Sequence[Merchant],
    workspace: Workspace,
    *,
    encoder: Encoder,
    crawled_at: Mapping[str, str],
    watermark: str,
    full: bool = False,
    batch_size: int = 64,
    progress: ProgressCallback = no_progress,
    exact_max_rows: int = EXACT_MAX_ROWS,
    checkpoint: Checkpoint = no_checkpoint,
    multilingual: bool | None = None,
) -> BuildReport:
    """Build, verify and switch to a new snapshot of ``products`` (module docstring; ``multilingual``: USE vectors
    too, None: as the current snapshot has them).

    ``progress`` receives one task per stage (the embed stage counts texts); ``checkpoint`` is called at each
    risky moment (crash tests pause there; the default does nothing).
    """
    started = time.perf_counter()
    stages = Stages(progress)
    with build_lock(workspace):
        clean_leftovers(workspace)
        previous = current_version(workspace)
        multilingual = ml.kept(workspace.indexes_dir, previous) if multilingual is None else multilingual
        if not full:
            manifest = unchanged_manifest(workspace, encoder.name, watermark)
            if manifest is not None:
                return _unchanged_report(workspace, manifest, encoder.name, watermark,
                                         time.perf_counter() - started)
        report = BuildReport("built", None, previous, encoder.name, watermark=watermark)
        version = next_version(workspace)
        build_dir = workspace.indexes_dir / f".build-{version}-{os.getpid()}"
        with stages.stage("read"):
            plan = _plan(products, build_dir, workspace, report, full=full)
        with stages.stage("embed", bar=True):
            vectors = _embed_rows(plan, encoder, workspace, report, full=full, batch_size=batch_size,
                                  stages=stages, checkpoint=checkpoint)
        before = workspace.indexes_dir / previous if previous and not full else None
        indexes = _build_indexes(plan, vectors, report, exact_max_rows=exact_max_rows, stages=stages, previous=before)
        manifest = _manifest(version, encoder.name, watermark, plan, merchants, report, indexes)
        manifest |= {"multilingual": {"model": ml.MODEL, "text": ml.TEXT_RECIPE}} if multilingual else {}
        manifest |= {"embedding_backend": backend_of(encoder.name)}  # also in the model name: queries use it
        _write_and_verify(build_dir, manifest, plan, merchants, crawled_at, indexes,
                          stages=stages, checkpoint=checkpoint)
        if multilingual:
            with stages.stage("multilingual"):
                ml.write_vectors(build_dir, plan.rows, workspace.home / "cache" / "multilingual")
        final = _switch(workspace, build_dir, version, encoder.name, plan, report,
                        stages=stages, checkpoint=checkpoint)
        report.version, report.path = version, str(final)
        report.products, report.merchants, report.dim = len(plan.rows), len(merchants), indexes.dim
        report.dense, report.tokenized = indexes.dense_params["type"], indexes.lexical.tokenized
        report.seconds = dict(stages.seconds)
        report.total_seconds = round(time.perf_counter() - started, 3)
        return report


def index_workspace(
    workspace: Workspace,
    model: str | None = None,
    device: str | None = None,
    *,
    full: bool = False,
    batch_size: int = 64,
    progress: ProgressCallback = no_progress,
    multilingual: bool | None = None,
    encoder: Encoder | None = None,
    backend: str | None = None,
) -> BuildReport:
    """Index the workspace's DuckDB catalog (read-only): what ``aisle index`` runs (``encoder``: e.g. Ray's;
    ``backend``: the embedding backend, :data:`indexer.build.embed.BACKENDS`, None: the default)."""
    from indexer.store.store import Store  # the store is the only module that speaks SQL

    if encoder is None and backend is None:  # a re-index keeps its snapshot's backend
        backend = kept_backend(workspace, model, device)
    name = encoder.name if encoder is not None else encoder_name(model, backend, device)
    # Read everything, then close the catalog before the long part: a crawler can write again while
    # we embed (DuckDB allows no writer while another process holds the file open).
    started = time.perf_counter()
    with Store.open(workspace.catalog_db, read_only=True) as store:
        watermark = store.watermark()
        unchanged = None if full else unchanged_manifest(workspace, name, watermark)
        if unchanged is not None:
            return _unchanged_report(workspace, unchanged, name, watermark)
        products = list(store.products())
        merchants, crawled_at = store.merchants(), store.crawled_at()
    catalog_seconds = round(time.perf_counter() - started, 3)
    encoder = encoder or load_encoder(model, device, lazy=True, backend=backend, cache_dir=onnx_cache_dir(workspace))
    report = build_index(products, merchants, workspace, encoder=encoder, crawled_at=crawled_at, watermark=watermark,
                         full=full, batch_size=batch_size, progress=progress, multilingual=multilingual)
    report.seconds = {"catalog": catalog_seconds, **report.seconds}
    report.total_seconds = round(report.total_seconds + catalog_seconds, 3)
    return report
