"""Fusion of the retrievers' lists: reciprocal rank, weighted normalised scores, z-scores, learned weights.

* :func:`rrf`, :func:`weighted`, :func:`zscore`: the fusion functions (``EngineSettings.fusion``).
* :func:`query_features` and :func:`model_weights`: query-dependent fusion weights from a small linear
  model (``EngineSettings.fusion_model``), read on signals every query has at query time: how much of the
  query the catalog knows, its length, how far each retriever's best hit stands above its own list, and how
  much the two lists agree. Each retriever's weight is ``max(0, row · features)``; the rows are plain numbers
  meant to be fitted on the dev set with 5-fold cross-validation (docs/benchmarks.md: measured, not adopted).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from search.retrieval.ranked import Ranked, top


def rrf(lists: Sequence[Ranked], *, k: int = 60, weights: Sequence[float] | None = None, depth: int) -> Ranked:
    """Reciprocal rank fusion: ``score(row) = Σ_i w_i / (k + rank_i(row))`` (rank from 1)."""
    weights = list(weights) if weights is not None else [1.0] * len(lists)
    parts_r = [r.rows for r in lists if len(r)]
    if not parts_r:
        return Ranked.empty()
    parts_s = [w / (k + 1.0 + np.arange(len(r), dtype=np.float64))
               for r, w in zip(lists, weights, strict=True) if len(r)]
    rows = np.concatenate(parts_r)
    contrib = np.concatenate(parts_s)
    uniq, inv = np.unique(rows, return_inverse=True)
    total = np.zeros(uniq.shape[0], dtype=np.float64)
    np.add.at(total, inv, contrib)
    return top(uniq, total.astype(np.float32), depth)


def weighted(
    lex: Ranked,
    den: Ranked,
    *,
    lexical_scores: Callable[[np.ndarray], np.ndarray],
    dense_scores: Callable[[np.ndarray], np.ndarray],
    weights: Sequence[float] = (1.0, 1.0),
    depth: int,
) -> Ranked:
    """Convex combination of normalised scores over the union of both candidate lists.

    Every candidate gets *both* scores (``lexical_scores(rows)``, ``dense_scores(rows)``), so a
    product found by one retriever is not penalised for being just below the other's cut-off.
    Normalisation uses each retriever's theoretical minimum and the best score seen (BM25:
    ``s / max``; cosine: ``(s + 1) / (max + 1)``), the "TM2C2" form that Bruch et al. (2023, "An
    analysis of fusion functions for hybrid retrieval") found more robust than min-max; the weights
    are then normalised to sum to 1.
    """
    if not len(lex) and not len(den):
        return Ranked.empty()
    rows = np.union1d(lex.rows, den.rows).astype(np.int64)
    wl, wd = (float(w) for w in weights)
    total = (wl + wd) or 1.0
    b = np.asarray(lexical_scores(rows), dtype=np.float64)
    c = np.asarray(dense_scores(rows), dtype=np.float64)
    b_max = float(b.max()) if b.size else 0.0
    c_max = float(c.max()) if c.size else 0.0
    bn = b / b_max if b_max > 0 else np.zeros_like(b)
    cn = (c + 1.0) / (c_max + 1.0) if c_max > -1.0 else np.zeros_like(c)
    return top(rows, ((wl * bn + wd * cn) / total).astype(np.float32), depth)


def standardise(x: np.ndarray, ref: np.ndarray, *, clip: bool, z_floor: float, z_cap: float = 0.0) -> np.ndarray:
    """``x`` as deviations from the mean of ``ref`` (one retriever's own top list); see :func:`zscore`.

    ``z_cap`` > 0 bounds the result above: one retriever's outlier (a BM25 hit holding every rare word of the
    query, six deviations above its list) then cannot outvote the others on its own.
    """
    z = _deviations(x, ref, clip=clip, z_floor=z_floor)
    return np.minimum(z, z_cap) if z_cap > 0 else z


def _deviations(x: np.ndarray, ref: np.ndarray, *, clip: bool, z_floor: float) -> np.ndarray:
    sd = float(ref.std()) if ref.size >= 3 else 0.0
    if sd <= 1e-9:
        # One or two hits, or all tied: no spread of its own to standardise by. Standardise over the
        # candidate pool instead, where the few products this retriever found stand far above the
        # rest (a BM25 query only one product matches is strong evidence for that product).
        sd = float(x.std())
        return (x - float(x.mean())) / sd if sd > 1e-9 else np.zeros_like(x)
    # clip: a candidate below this retriever's whole list (not found by it) counts as its last hit (with a
    # flat list, one common word, the raw z of a zero score would be a huge penalty).
    lo = float(ref.min()) if clip else -np.inf
    if not clip and z_floor > 0:  # real scores, but no lower than z_floor deviations below the mean
        lo = min(float(ref.min()), float(ref.mean()) - z_floor * sd)
    return (np.maximum(x, lo) - float(ref.mean())) / sd


def zscore(
    lex: Ranked,
    den: Ranked,
    *,
    lexical_scores: Callable[[np.ndarray], np.ndarray],
    dense_scores: Callable[[np.ndarray], np.ndarray],
    weights: Sequence[float] = (1.0, 1.0),
    depth: int,
    third: tuple[Ranked, Callable[[np.ndarray], np.ndarray], float] | None = None,
    pool: bool = False,
    clip: bool = True,
    z_floor: float = 0.0,
    z_cap: float = 0.0,
    unread: Callable[[np.ndarray], np.ndarray] | None = None,
) -> Ranked:
    """Weighted sum of z-scores over the union of both candidate lists.

    ``third`` = (its top list, its scorer, its weight) adds a third retriever the same way (the
    multilingual dense index).

    Each retriever's scores are standardised by the mean and standard deviation of *its own* top list
    (the distribution-based normalisation of Bruch et al. 2023), so a retriever whose best hit stands
    far above its crowd counts more than one whose scores are flat; the max-based form lets BM25's
    single strong term match dominate. Every candidate gets both scores, as in :func:`weighted`.

    ``clip`` (default) lifts a candidate below a retriever's whole list to that list's last hit; with
    ``clip=False`` its real score is standardised as it is (a BM25 candidate the dense side finds far off
    topic sinks; see docs/benchmarks.md for which one dev-100 supports), bounded below by ``z_floor``
    standard deviations under the list's mean when ``z_floor`` > 0 (or the last hit, if lower); ``z_cap`` > 0
    bounds every z above (:func:`standardise`).

    ``unread(rows)`` (bool per row) marks candidates the dense model cannot read (a product written in a language
    it was not trained on): their dense score counts no lower than the dense list's last hit, so a low cosine that
    only says "not English" does not sink a product BM25 found through its own words or the lexicon's translations.
    """
    if not len(lex) and not len(den):
        return Ranked.empty()
    rows = np.union1d(lex.rows, den.rows).astype(np.int64)
    if third is not None and third[2] > 0:
        rows = np.union1d(rows, third[0].rows).astype(np.int64)
    wl, wd = (float(w) for w in weights)
    b = np.asarray(lexical_scores(rows), dtype=np.float64)
    c = np.asarray(dense_scores(rows), dtype=np.float64)
    if unread is not None and len(den):
        c = np.where(unread(rows), np.maximum(c, float(den.scores.min())), c)

    def z(x: np.ndarray, ref: np.ndarray) -> np.ndarray:
        return standardise(x, ref, clip=clip, z_floor=z_floor, z_cap=z_cap)

    if pool:  # standardise over the whole candidate pool: a rare lexical match stands far above the rest
        zb, zc = z(b, b), z(c, c)
    else:
        zb = z(b, lex.scores.astype(np.float64)) if len(lex) else np.zeros_like(b)
        zc = z(c, den.scores.astype(np.float64))
    total = wl * zb + wd * zc
    if third is not None and third[2] > 0:
        m = np.asarray(third[1](rows), dtype=np.float64)
        total += third[2] * z(m, m if pool else third[0].scores.astype(np.float64))
    return top(rows, total.astype(np.float32), depth)


# The query features of a fusion model, in this order (each about 0..1; see :func:`query_features`).
QUERY_FEATURES = ("bias", "known", "words", "lex_top", "dense_top", "overlap", "lex_match")


def _top_z(r: Ranked) -> float:
    """How far a list's best hit stands above the list, in its deviations (0 for fewer than 3 hits or a flat list)."""
    if len(r) < 3:
        return 0.0
    sd = float(r.scores.std())
    return float(r.scores[0] - r.scores.mean()) / sd if sd > 1e-9 else 0.0


def query_features(words: int, known: float, lex: Ranked, den: Ranked, lex_match: float) -> np.ndarray:
    """The query's features for a fusion model (:data:`QUERY_FEATURES`), each scaled to about 0..1.

    ``words``: distinct query terms; ``known``: share of them the catalog knows; ``lex``, ``den``: the
    retrievers' lists (their best hit's z within its own list: a confident retriever; the share of the two
    top 10s they hold in common: agreement); ``lex_match``: share of the query's terms the best BM25 product holds.
    """
    common = len(np.intersect1d(lex.rows[:10], den.rows[:10])) / 10.0
    return np.array([1.0, known, min(words, 16) / 8.0, min(_top_z(lex), 10.0) / 5.0, min(_top_z(den), 10.0) / 5.0,
                     common, lex_match], dtype=np.float64)


def model_weights(model: Sequence[Sequence[float]], features: np.ndarray) -> tuple[float, ...]:
    """One weight per row of ``model`` (lexical, dense, then multilingual): ``max(0, row · features)``.

    A row shorter than the features uses the first features only (a row of one number is a fixed weight).
    """
    out = []
    for row in model:
        w = np.asarray(row, dtype=np.float64)
        out.append(max(0.0, float(w @ features[: w.size])))
    return tuple(out)
