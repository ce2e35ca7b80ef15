"""The ranking stages of one search, between the filters and the answer (called by :mod:`search.engine`).

* :func:`rank`: the allowed rows ranked by the words (:func:`search.retrieval.retrieve.retrieve`), equal
  scores broken toward a qualifying variant in stock; with no words, :func:`browse` order.
* :func:`browse`: only filters: a satisfying variant in stock first, then the cheapest, then snapshot order.
* :func:`near_candidates`: products that match the words but fail some constraint (scoping filters stay hard).
* :func:`floor_missed`: which ranked rows are not the kind of product the query names (the relevance floor,
  :mod:`search.retrieval.floor`).

``settings`` is the engine's :class:`search.engine.EngineSettings` (typed loosely: this module is below
the engine in the import order).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from search.filter.variants import rows_have_variant, rows_of, satisfying_mask, variants_of_rows
from search.retrieval.floor import Kind, kind_missed, kind_vocabulary
from search.retrieval.retrieve import Ranked, retrieve

Encode = Callable[[str], np.ndarray]


def rank(snap: Any, cat: Any, mode: str, text: str, allowed: np.ndarray | None, vmask: np.ndarray | None, *,
         settings: Any, encode: Encode, multilingual: tuple[np.ndarray, Encode] | None = None,
         query_text: str | None = None) -> Ranked:
    """Rows best first for ``text`` within ``allowed`` (``query_text``: the query's own words, for fusion)."""
    s = settings
    if not text.strip():
        if vmask is None and allowed is not None:
            vmask = variants_of_rows(cat, allowed)
        return browse(cat, vmask, s.candidate_depth)
    ranked = retrieve(
        mode=mode, text=text, lexical_index=snap.lexical, dense_index=snap.dense, vectors=snap.vectors,
        encode=encode, depth=s.candidate_depth, allowed=allowed, fusion=s.fusion, rrf_k=s.rrf_k,
        weights=s.weights, exact_threshold=s.exact_threshold, coverage_power=s.coverage_power,
        multilingual=(multilingual[0], multilingual[1], s.multilingual_weight, s.multilingual_gated)
        if multilingual is not None else None,
        match_power=s.match_power, length_pivot=s.length_pivot, query_text=query_text,
        clip_missing=s.clip_missing, z_floor=s.z_floor, prf=(s.prf_k, s.prf_beta), z_cap=s.z_cap,
        foreign_floor=s.foreign_dense_floor,
        prf_rescore=s.prf_rescore,
        model=s.fusion_model, multilingual_base=s.multilingual_base,
        probe=(s.nprobe, s.nprobe_power),
    )
    if len(ranked) < 2:
        return ranked
    # Equal scores (frequent with rank fusion): a product with a qualifying variant in stock first.
    in_stock = rows_have_variant(cat, ranked.rows, vmask, cat.var_available)
    o = np.lexsort((~in_stock, -ranked.scores))
    return Ranked(ranked.rows[o], ranked.scores[o])


def browse(cat: Any, vmask: np.ndarray | None, depth: int) -> Ranked:
    """No words to rank by: satisfying variant in stock first, then cheapest, then snapshot order."""
    idx = np.flatnonzero(vmask) if vmask is not None else np.arange(cat.n_variants)
    if idx.size == 0:
        return Ranked.empty()
    rows = cat.var_row[idx]
    unavailable = (~cat.var_available[idx]).astype(np.int64)
    price = np.where(cat.var_price[idx] >= 0, cat.var_price[idx], np.iinfo(np.int64).max)
    o = np.lexsort((price, unavailable, rows))  # per row: best variant first
    rows, unavailable, price = rows[o], unavailable[o], price[o]
    first = np.ones(rows.size, dtype=bool)
    first[1:] = rows[1:] != rows[:-1]
    rows, unavailable, price = rows[first], unavailable[first], price[first]
    o = np.lexsort((rows, price, unavailable))[:depth]
    n = len(o)
    return Ranked(rows[o].astype(np.int64), (1.0 - np.arange(n) / max(n, 1)).astype(np.float32))


def near_candidates(snap: Any, cat: Any, mode: str, it: Any, allowed: np.ndarray | None, extra: np.ndarray | None,
                    *, settings: Any, encode: Encode,
                    multilingual: tuple[np.ndarray, Encode] | None = None) -> list[tuple[int, float, bool]]:
    """Products matching the words that are not exact results (merchant and platform filters stay hard).

    Ranked with ``settings.near_clip_missing`` as the fusion's ``clip_missing`` (the near list's own rule: see
    :class:`search.settings.EngineSettings`)."""
    from search.filter.constraints import Constraints

    scope = Constraints(merchants=it.constraints.merchants, platforms=it.constraints.platforms)
    smask = satisfying_mask(cat, scope, extra=extra)
    near_allowed = rows_of(cat, smask) if smask is not None else None
    ranked = rank(snap, cat, mode, it.ranking_text or it.text, near_allowed, smask,
                  settings=replace(settings, clip_missing=settings.near_clip_missing),
                  encode=encode, multilingual=multilingual, query_text=it.text)
    exact = np.zeros(cat.n_products, dtype=bool)
    if allowed is not None:
        exact[allowed] = True
    return [(int(r), float(sc), False) for r, sc in zip(ranked.rows, ranked.scores, strict=True) if not exact[r]]


def floor_missed(snap: Any, cat: Any, kind: Kind, rows: list[int], *, threshold: float, encode: Encode,
                 terms: dict[int, frozenset[str]], words: list[frozenset[str]], named_bar: float = 0.0,
                 compounds: str = "open") -> set[int]:
    """Rows that are not the kind of product the query names; ``terms``/``words`` are per-snapshot caches.

    ``compounds``: the compound rule of English rows (:func:`search.retrieval.floor.kind_missed`), the rows'
    language read from the lexical index."""
    return kind_missed(cat, snap.vectors, encode, kind, rows, terms, threshold, kind_words(snap, words), named_bar,
                       getattr(snap.lexical, "doc_lang", None), compounds)


def kind_words(snap: Any, words: list[frozenset[str]]) -> frozenset[str]:
    """The catalog's kind vocabulary, from the per-snapshot cache ``words`` (filled at open; else computed once)."""
    if not words:
        words.append(kind_vocabulary(snap.products))
    return words[0]


def multilingual_vectors(snapshot: Any, settings: Any) -> np.ndarray | None:
    """The multilingual USE vectors of ``snapshot``'s rows (beside it, or in ``settings.multilingual_dir``).

    None when ``settings.multilingual_weight`` is 0 (the default: see docs/benchmarks.md) or none were built.
    """
    if settings.multilingual_weight <= 0:
        return None
    from indexer.build.multilingual import load_vectors

    ids = snapshot.doc_ids() if hasattr(snapshot, "doc_ids") else [p.doc_id for p in snapshot.products]
    extra = [Path(settings.multilingual_dir)] if settings.multilingual_dir else []
    for folder in (Path(snapshot.path), *extra):
        vec = load_vectors(folder, ids)
        if vec is not None:
            return vec
    return None
