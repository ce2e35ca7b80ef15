"""Candidate retrieval: lexical (BM25), dense (inner product), both restricted to allowed rows, and fusion.

Filtering happens *before* ranking: when constraints apply, the engine computes the allowed product
rows first (:mod:`search.filter.variants`) and every retriever here searches within them, so a selective
filter can never empty the answer because the unfiltered top-k happened to fail it.

* Lexical: :meth:`LexicalIndex.search` with ``allowed`` (BM25 scores of the allowed rows only).
* Dense: :func:`search.retrieval.filtered.dense_topk`, the strategy per index type and selectivity: exact
  scoring ``vectors[allowed] @ q`` for small allowed sets (up to ``exact_threshold`` rows with a flat
  index, a few thousand with an approximate one), otherwise the FAISS index with an ``IDSelector``
  (IVF: probes scaled with the selectivity, candidates reranked exactly), topped up by exact scoring
  if the index returns fewer hits than asked.
* Fusion: reciprocal rank fusion ``Σ w_i / (k + rank_i)`` (default, k = 60), or a weighted sum
  (convex combination) of normalised scores over the union of both candidate lists
  (:func:`weighted`). Ties break by row for determinism.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from search.retrieval.filtered import dense_topk

Fusion = Literal["rrf", "weighted", "zscore", "zunion"]


@dataclass(frozen=True, slots=True)
class Ranked:
    """Rows best first with their scores (same length)."""

    rows: np.ndarray  # int64
    scores: np.ndarray  # float32

    def __len__(self) -> int:
        return int(self.rows.shape[0])

    @classmethod
    def empty(cls) -> Ranked:
        return cls(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))


def _top(rows: np.ndarray, scores: np.ndarray, k: int) -> Ranked:
    """Best ``k`` of (rows, scores), ties by row."""
    if len(rows) > k:
        part = np.argpartition(-scores, k - 1)[:k]
        kth = scores[part].min()
        keep = scores >= kth  # keep every tie of the k-th so the tie-break is exact
        rows, scores = rows[keep], scores[keep]
    order = np.lexsort((rows, -scores))[:k]
    return Ranked(rows[order].astype(np.int64), scores[order].astype(np.float32))


def lexical(index: Any, text: str, k: int, allowed: np.ndarray | None = None) -> Ranked:
    """BM25 top ``k`` (only rows in ``allowed`` when given)."""
    if k <= 0 or not text.strip():
        return Ranked.empty()
    rows, scores = index.search(text, k, allowed=allowed)
    return Ranked(np.asarray(rows, dtype=np.int64), np.asarray(scores, dtype=np.float32))


def dense(
    index: Any,
    vectors: np.ndarray,
    query: np.ndarray,
    k: int,
    allowed: np.ndarray | None = None,
    *,
    exact_threshold: int = 20_000,
) -> Ranked:
    """Inner-product top ``k`` for one query vector (only rows in ``allowed`` when given).

    An index with a ``topk`` method (the sharded index, :class:`search.retrieval.shards.ShardedDense`)
    answers itself.
    """
    if hasattr(index, "topk"):
        rows, scores = index.topk(query, k, allowed, exact_threshold=exact_threshold)
        return Ranked(rows, scores)
    rows, scores = dense_topk(index, vectors, query, k, allowed, exact_threshold=exact_threshold)
    return Ranked(rows, scores)


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
    return _top(uniq, total.astype(np.float32), depth)


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
    return _top(rows, ((wl * bn + wd * cn) / total).astype(np.float32), depth)


def _standardise(x: np.ndarray, ref: np.ndarray, *, clip: bool, z_floor: float) -> np.ndarray:
    """``x`` as deviations from the mean of ``ref`` (one retriever's own top list); see :func:`zscore`."""
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
    standard deviations under the list's mean when ``z_floor`` > 0 (or the last hit, if lower).
    """
    if not len(lex) and not len(den):
        return Ranked.empty()
    rows = np.union1d(lex.rows, den.rows).astype(np.int64)
    if third is not None and third[2] > 0:
        rows = np.union1d(rows, third[0].rows).astype(np.int64)
    wl, wd = (float(w) for w in weights)
    b = np.asarray(lexical_scores(rows), dtype=np.float64)
    c = np.asarray(dense_scores(rows), dtype=np.float64)

    def z(x: np.ndarray, ref: np.ndarray) -> np.ndarray:
        return _standardise(x, ref, clip=clip, z_floor=z_floor)

    if pool:  # standardise over the whole candidate pool: a rare lexical match stands far above the rest
        zb, zc = z(b, b), z(c, c)
    else:
        zb = z(b, lex.scores.astype(np.float64)) if len(lex) else np.zeros_like(b)
        zc = z(c, den.scores.astype(np.float64))
    total = wl * zb + wd * zc
    if third is not None and third[2] > 0:
        m = np.asarray(third[1](rows), dtype=np.float64)
        total += third[2] * z(m, m if pool else third[0].scores.astype(np.float64))
    return _top(rows, total.astype(np.float32), depth)


def lexical_confidence(index: Any, text: str) -> float:
    """Share of the query's distinct words that the catalog vocabulary knows (0..1; 1 without words).

    A query whose words are mostly absent from the catalog (another language, a paraphrase) gives
    BM25 little to go on: fusion then leans on the dense retriever (``coverage_power`` in
    :func:`retrieve`).
    """
    return float(index.coverage(text))  # a word counts once, in whichever language the catalog knows it


def query_weights(index: Any, text: str, lex: Ranked, weights: tuple[float, float], match_power: float,
                  length_pivot: float) -> tuple[float, float]:
    """(lexical, dense) weights for this query: BM25 trusted as far as its best hit explains the query.

    * lexical × (share of the query's words the best BM25 product contains) ** ``match_power``: when the
      top lexical hit holds only a few of a long description's words, its lead is a few common words;
    * dense × max(1, words / ``length_pivot``): a long descriptive query ("something to weigh my coffee
      beans and time my espresso shots") is what a sentence encoder reads better than term matching.
    """
    from indexer.build.lexical import tokenize

    wl, wd = weights
    if match_power > 0:
        share = index.matched_share(text, int(lex.rows[0])) if len(lex) else 0.0
        wl *= share ** match_power
    if length_pivot > 0:
        wd *= max(1.0, len(set(tokenize(text))) / length_pivot)
    return wl, wd


Third = tuple[Ranked, Callable[[np.ndarray], np.ndarray], float]


def _third(multilingual: tuple[np.ndarray, Callable[[str], np.ndarray], float, bool] | None, fusion: str,
           cov: float, text: str, depth: int, allowed: np.ndarray | None) -> Third | None:
    """The multilingual third signal for :func:`zscore` (None when off, gated to 0, or another fusion)."""
    if multilingual is None or fusion not in ("zscore", "zunion"):
        return None
    mvec, mencode, mw, gated = multilingual
    mw = mw * (1.0 - cov) if gated else mw
    if mw <= 0:
        return None
    mq = mencode(text)
    return (dense(None, mvec, mq, depth, allowed, exact_threshold=len(mvec) + 1), lambda rows: mvec[rows] @ mq, mw)


def _fuser(lexical_index: Any, text: str, lex: Ranked, vectors: np.ndarray, *, fusion: str,
           weights: tuple[float, float], depth: int, rrf_k: int, third: Third | None,
           clip: bool, z_floor: float = 0.0) -> Callable[[Ranked, np.ndarray], Ranked]:
    """``fuse(dense list, query vector)``: ``lex`` fused with a dense side (the BM25 scores of every row, once)."""
    all_lex: list[np.ndarray] = []

    def lex_scores(rows: np.ndarray) -> np.ndarray:
        if not all_lex:
            all_lex.append(lexical_index.scores(text))
        return all_lex[0][rows]

    def fuse(den: Ranked, q: np.ndarray) -> Ranked:
        if fusion in ("zscore", "zunion"):
            return zscore(lex, den, lexical_scores=lex_scores, dense_scores=lambda rows: vectors[rows] @ q,
                          weights=weights, depth=depth, third=third, pool=fusion == "zunion", clip=clip,
                          z_floor=z_floor)
        if fusion == "weighted":
            return weighted(lex, den, lexical_scores=lex_scores, dense_scores=lambda rows: vectors[rows] @ q,
                            weights=weights, depth=depth)
        return rrf([lex, den], k=rrf_k, weights=weights, depth=depth)

    return fuse


def rocchio(q: np.ndarray, vectors: np.ndarray, top: np.ndarray, beta: float) -> np.ndarray:
    """Pseudo-relevance feedback: ``normalise(q + beta * mean(vectors[top]))`` (``q`` when ``top`` is empty).

    The fused top products are mostly right even where the query's own vector reads it poorly, so moving
    the query toward them pulls in their close neighbours (Rocchio 1971, positive part only; no re-encoding).
    """
    if top.size == 0 or beta <= 0:
        return q
    v = np.asarray(q, dtype=np.float32) + beta * vectors[top].astype(np.float32).mean(axis=0)
    n = float(np.linalg.norm(v))
    return (v / n).astype(np.float32) if n > 0 else q


def retrieve(
    *,
    mode: str,
    text: str,
    lexical_index: Any,
    dense_index: Any,
    vectors: np.ndarray,
    encode: Callable[[str], np.ndarray],
    depth: int,
    allowed: np.ndarray | None,
    fusion: Fusion = "rrf",
    rrf_k: int = 60,
    weights: tuple[float, float] = (1.0, 1.0),
    exact_threshold: int = 20_000,
    coverage_power: float = 0.0,
    multilingual: tuple[np.ndarray, Callable[[str], np.ndarray], float, bool] | None = None,
    match_power: float = 0.0,
    length_pivot: float = 0.0,
    query_text: str | None = None,
    clip_missing: bool = False,
    z_floor: float = 0.0,
    prf: tuple[int, float] = (0, 0.0),
) -> Ranked:
    """Top ``depth`` rows for ``text`` in ``mode`` (``bm25``, ``dense``, ``hybrid``) within ``allowed``.

    ``weights`` are (lexical, dense) for fusion. ``encode`` is called only when dense scores are needed.
    ``coverage_power`` > 0 makes the lexical weight query-dependent: it is multiplied by
    :func:`lexical_confidence` to that power. ``multilingual`` = (vectors, query encoder, weight,
    gated) adds the multilingual dense index as a third z-score signal (``zscore`` fusion only); gated,
    its weight is scaled by the share of query words the catalog does *not* know, so it speaks for
    queries in another language or wording and stays quiet where BM25 and MiniLM are on firm ground.
    ``match_power`` and ``length_pivot`` make the weights depend on the query (:func:`query_weights`),
    read on ``query_text`` (the query's own words, without the synonyms added for ranking; default ``text``).
    ``clip_missing``, ``z_floor``: see :func:`zscore` ``clip``. ``prf`` = (k, beta) with k > 0: hybrid fuses once, moves
    the dense query toward its top k (:func:`rocchio`), re-scores the dense side and fuses again.
    """
    lex = (
        lexical(lexical_index, text, depth, allowed) if mode in ("bm25", "hybrid") else Ranked.empty()
    )
    if mode == "bm25":
        return lex
    q = encode(text)
    den = dense(dense_index, vectors, q, depth, allowed, exact_threshold=exact_threshold)
    if mode == "dense":
        return den
    cov = lexical_confidence(lexical_index, text) if coverage_power > 0 or multilingual is not None else 1.0
    if coverage_power > 0:
        weights = (weights[0] * cov ** coverage_power, weights[1])
    if match_power > 0 or length_pivot > 0:
        weights = query_weights(lexical_index, query_text or text, lex, weights, match_power, length_pivot)
    third = _third(multilingual, fusion, cov, text, depth, allowed)
    fuse = _fuser(lexical_index, text, lex, vectors, fusion=fusion, weights=weights, depth=depth, rrf_k=rrf_k,
                  third=third, clip=clip_missing, z_floor=z_floor)
    fused = fuse(den, q)
    if prf[0] <= 0 or prf[1] <= 0 or not len(fused):
        return fused
    q2 = rocchio(q, vectors, fused.rows[: prf[0]], prf[1])
    return fuse(dense(dense_index, vectors, q2, depth, allowed, exact_threshold=exact_threshold), q2)
