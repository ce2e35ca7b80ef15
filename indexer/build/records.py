"""The rows of a build: every product serialised once into the new snapshot's ``products.jsonl``, fingerprinted,
and compared with the previous snapshot so that only new or changed products have their texts derived again.

A snapshot (format 2) keeps ``records.npy``: uint64 (N, 2) in row order, the blake2b-64 of each row's JSON line
(the product record exactly as stored) and the hash of its lexical text (:func:`indexer.build.bm25.text_hashes`).
At the next build a product whose line hashes the same as its doc_id's line in the previous snapshot (same text
recipe) *is* the same record, so its embedding text hash (``idmap.json``), lexical hash and language evidence
(``evidence.npy``, :func:`indexer.build.language.product_evidence`) are taken from there:
:func:`indexer.build.text.product_text` and :func:`~indexer.build.text.lexical_text` run only for the products that
changed (and for a text the embedding cache no longer has). The line is written as it is made (the writer then
only fsyncs it and records the sha256 computed on the way), so the rows are serialised once per build and never
held in memory together. A snapshot without ``records.npy`` (written before it existed) is simply not reused.

The result is the same as a build from scratch, byte for byte: a reused hash is the hash of the same text.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from indexer.build.analysis import LANGUAGES
from indexer.build.bm25 import text_hashes
from indexer.build.language import product_evidence
from indexer.build.rowstore import row_line
from indexer.build.text import TEXT_RECIPE_VERSION, lexical_text, product_text, text_hash
from indexer.models import Product

RECORDS = "records.npy"
EVIDENCE = "evidence.npy"  # float64 (N, languages): each row's language evidence, kept like its text hashes


@dataclass(frozen=True)
class Plan:
    """The catalog as the snapshot will hold it: rows sorted by doc_id, their hashes, the products file written."""

    rows: list[Product]
    hashes: list[str]  # sha256 of each row's embedding text (the embedding cache key)
    records: np.ndarray  # uint64 (N, 2): record hash, lexical text hash
    offsets: np.ndarray  # int64 (N+1,): each row's line in products.jsonl
    products_sha256: str
    texts: dict[int, str]  # the embedding texts derived in this build, by row
    evidence: np.ndarray  # float64 (N, languages): each row's language evidence (indexer.build.language)
    received: int  # records given (a repeated doc_id counts each time)
    reused: int  # rows whose texts were not derived again

    def dense_texts(self) -> Mapping[str, str]:
        """``text hash -> embedding text`` of every row, each text derived only when it is read."""
        return _TextsByHash(self)

    def lexical_texts(self) -> Sequence[str]:
        """Each row's lexical text, derived only when it is read (BM25 reads only the new or changed ones)."""
        return _Lazy(self.rows, lexical_text)

    def text(self, row: int) -> str:
        """The embedding text of ``row``."""
        t = self.texts.get(row)
        return t if t is not None else product_text(self.rows[row])


class _Lazy(Sequence[str]):
    def __init__(self, rows: Sequence[Product], fn: Any) -> None:
        self._rows, self._fn = rows, fn

    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self._fn(p) for p in self._rows[i]]
        return self._fn(self._rows[i])

    def __iter__(self) -> Iterator[str]:
        return (self._fn(p) for p in self._rows)


class _TextsByHash(Mapping[str, str]):
    def __init__(self, plan: Plan) -> None:
        self._plan = plan
        self._row: dict[str, int] = {}
        for i, h in enumerate(plan.hashes):
            self._row.setdefault(h, i)

    def __getitem__(self, h: str) -> str:
        return self._plan.text(self._row[h])

    def __len__(self) -> int:
        return len(self._row)

    def __iter__(self) -> Iterator[str]:
        return iter(self._row)


def _previous(folder: Path | None) -> tuple[dict[str, int], list[str], np.ndarray, np.ndarray | None] | None:
    """``(row of each doc_id, text hashes, records, language evidence or None)`` of the snapshot in ``folder``;
    None when not reusable."""
    if folder is None:
        return None
    try:
        manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
        if manifest.get("text_recipe") != TEXT_RECIPE_VERSION:
            return None
        idmap = json.loads((folder / "idmap.json").read_text("utf-8"))
        records = np.load(folder / RECORDS, allow_pickle=False)
    except (OSError, ValueError):
        return None
    ids, hashes = idmap.get("doc_ids") or [], idmap.get("text_sha256") or []
    if records.shape != (len(ids), 2) or len(hashes) != len(ids):
        return None
    try:
        evidence: np.ndarray | None = np.load(folder / EVIDENCE, allow_pickle=False)
    except (OSError, ValueError):
        evidence = None
    if evidence is not None and evidence.shape != (len(ids), len(LANGUAGES)):
        evidence = None
    return {d: i for i, d in enumerate(ids)}, hashes, records, evidence


def record_hash(line: bytes) -> int:
    """The fingerprint of one stored record (its JSON line)."""
    return int.from_bytes(hashlib.blake2b(line, digest_size=8).digest(), "little")


def plan_rows(products: Iterable[Product], products_path: Path, previous: Path | None) -> Plan:
    """Read the records (a repeated doc_id keeps its last), write them as ``products_path`` in doc_id order, and
    derive the texts of the rows that differ from ``previous`` (a snapshot folder; None: derive every one)."""
    by_id: dict[str, Product] = {}
    received = 0
    for p in products:
        by_id[p.doc_id] = p
        received += 1
    rows = [by_id[k] for k in sorted(by_id)]
    del by_id
    prev = _previous(previous)
    records = np.zeros((len(rows), 2), dtype=np.uint64)
    offsets = np.zeros(len(rows) + 1, dtype=np.int64)
    hashes: list[str] = [""] * len(rows)
    texts: dict[int, str] = {}
    fresh: list[int] = []
    evidence = np.zeros((len(rows), len(LANGUAGES)), dtype=np.float64)
    known = np.zeros(len(rows), dtype=bool)
    digest = hashlib.sha256()
    with open(products_path, "wb") as fh:
        for i, p in enumerate(rows):
            line = row_line(p)
            fh.write(line)
            digest.update(line)
            offsets[i + 1] = offsets[i] + len(line)
            rec = record_hash(line)
            records[i, 0] = rec
            j = prev[0].get(p.doc_id) if prev is not None else None
            if prev is not None and j is not None and int(prev[2][j, 0]) == rec:
                hashes[i] = prev[1][j]
                records[i, 1] = prev[2][j, 1]
                if prev[3] is not None:
                    evidence[i], known[i] = prev[3][j], True
            else:
                fresh.append(i)
    _derive(rows, fresh, hashes, records, texts)
    for i in np.flatnonzero(~known).tolist():
        evidence[i] = product_evidence(rows[i])
    return Plan(rows, hashes, records, offsets, digest.hexdigest(), texts, evidence, received,
                len(rows) - len(fresh))


def _derive(rows: Sequence[Product], fresh: list[int], hashes: list[str], records: np.ndarray,
            texts: dict[int, str]) -> None:
    """The texts and hashes of the ``fresh`` rows (new or changed), into ``hashes``, ``records`` and ``texts``."""
    for i in fresh:
        texts[i] = product_text(rows[i])
        hashes[i] = text_hash(texts[i])
    if fresh:
        # derived one at a time as hashed: a build from scratch never holds every lexical text at once
        records[fresh, 1] = text_hashes(_Lazy([rows[i] for i in fresh], lexical_text))


def save_records(folder: Path, records: np.ndarray, evidence: np.ndarray | None = None) -> list[Path]:
    """Write ``records.npy`` (and ``evidence.npy``) into ``folder``; returns the paths (the caller fsyncs)."""
    out = []
    for name, arr in ((RECORDS, np.ascontiguousarray(records, dtype=np.uint64)), (EVIDENCE, evidence)):
        if arr is not None:
            with open(folder / name, "wb") as fh:
                np.save(fh, np.ascontiguousarray(arr), allow_pickle=False)
            out.append(folder / name)
    return out
