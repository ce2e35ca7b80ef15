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
from typing import Any, Literal

import numpy as np

from search.retrieval.filtered import NPROBE_POWER, dense_topk, index_kind
from search.retrieval.fusion import model_weights, query_features, rrf, weighted, zscore
from search.retrieval.ranked import Ranked

__all__ = ["Fusion", "Ranked", "dense", "lexical", "retrieve", "rocchio", "rrf", "weighted", "zscore"]

Fusion = Literal["rrf", "weighted", "zscore", "zunion"]


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
    probe: tuple[int | None, float] = (None, NPROBE_POWER),
) -> Ranked:
    """Inner-product top ``k`` for one query vector (only rows in ``allowed`` when given).

    ``probe`` = (nprobe, nprobe_power): IVF lists probed (None: the index's own) and their growth under a
    selective filter (:func:`search.retrieval.filtered.dense_topk`). An index with a ``topk`` method (the sharded
    index, :class:`search.retrieval.shards.ShardedDense`) answers itself.
    """
    if hasattr(index, "topk"):
        rows, scores = index.topk(query, k, allowed, exact_threshold=exact_threshold, nprobe=probe[0],
                                  nprobe_power=probe[1])
        return Ranked(rows, scores)
    rows, scores = dense_topk(index, vectors, query, k, allowed, exact_threshold=exact_threshold, nprobe=probe[0],
                              nprobe_power=probe[1])
    return Ranked(rows, scores)


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
           mw: float, text: str, depth: int, allowed: np.ndarray | None) -> Third | None:
    """The multilingual third signal for :func:`zscore` at weight ``mw`` (None when off, 0, or another fusion)."""
    if multilingual is None or fusion not in ("zscore", "zunion") or mw <= 0:
        return None
    mvec, mencode = multilingual[0], multilingual[1]
    mq = mencode(text)
    return (dense(None, mvec, mq, depth, allowed, exact_threshold=len(mvec) + 1), lambda rows: mvec[rows] @ mq, mw)


def fusion_weights(lexical_index: Any, text: str, query_text: str, lex: Ranked, den: Ranked, *,
                   weights: tuple[float, float], multilingual: tuple[float, bool, float] | None, coverage_power: float,
                   match_power: float, length_pivot: float,
                   model: Sequence[Sequence[float]] | None) -> tuple[float, float, float]:
    """(lexical, dense, multilingual) fusion weights for this query.

    With a ``model`` (:func:`search.retrieval.fusion.model_weights` over :func:`query_features`), its rows
    decide all three (a third row of 0 or none: no multilingual signal); otherwise ``weights``, made
    query-dependent by ``coverage_power``, ``match_power`` and ``length_pivot``, and the multilingual weight
    (``multilingual`` = (weight, gated, base)): gated, ``weight`` × the share of query words the catalog does not
    know + ``base`` (a small ungated part: the multilingual index also tells a right product from a wrong one
    where every word is known, e.g. the USE vectors place tillers far closer than grounding mats to "break up
    hard ground"); ungated, ``weight``.
    """
    from indexer.build.lexical import tokenize

    need_cov = coverage_power > 0 or multilingual is not None or model is not None
    cov = lexical_confidence(lexical_index, text) if need_cov else 1.0
    if model is not None:
        share = lexical_index.matched_share(query_text, int(lex.rows[0])) if len(lex) else 0.0
        g = query_features(len(set(tokenize(query_text))), cov, lex, den, share)
        w = model_weights(model, g)
        return w[0], w[1], (w[2] if len(w) > 2 and multilingual is not None else 0.0)
    if coverage_power > 0:
        weights = (weights[0] * cov ** coverage_power, weights[1])
    if match_power > 0 or length_pivot > 0:
        weights = query_weights(lexical_index, query_text, lex, weights, match_power, length_pivot)
    mw = 0.0
    if multilingual is not None:
        mw = multilingual[0] * (1.0 - cov) + multilingual[2] if multilingual[1] else multilingual[0]
    return weights[0], weights[1], mw


def _fuser(lexical_index: Any, text: str, lex: Ranked, vectors: np.ndarray, *, fusion: str,
           weights: tuple[float, float], depth: int, rrf_k: int, third: Third | None,
           clip: bool, z_floor: float = 0.0, z_cap: float = 0.0,
           foreign_floor: bool = False) -> Callable[[Ranked, np.ndarray], Ranked]:
    """``fuse(dense list, query vector)``: ``lex`` fused with a dense side (the BM25 scores of every row, once).

    ``foreign_floor``: rows whose language (the lexical index's ``doc_lang``) is not English are ``unread`` by the
    dense model (:func:`search.retrieval.fusion.zscore`); an index without languages marks none."""
    all_lex: list[np.ndarray] = []
    lang = getattr(lexical_index, "doc_lang", None) if foreign_floor else None
    unread = (lambda rows: np.asarray(lang)[rows] != 0) if lang is not None else None

    def lex_scores(rows: np.ndarray) -> np.ndarray:
        if not all_lex:
            all_lex.append(lexical_index.scores(text))
        return all_lex[0][rows]

    def fuse(den: Ranked, q: np.ndarray) -> Ranked:
        if fusion in ("zscore", "zunion"):
            return zscore(lex, den, lexical_scores=lex_scores, dense_scores=lambda rows: vectors[rows] @ q,
                          weights=weights, depth=depth, third=third, pool=fusion == "zunion", clip=clip,
                          z_floor=z_floor, z_cap=z_cap, unread=unread)
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
    clip_missing: bool = False, z_floor: float = 0.0, foreign_floor: bool = False,
    prf: tuple[int, float] = (0, 0.0),
    z_cap: float = 0.0,
    model: Sequence[Sequence[float]] | None = None,
    multilingual_base: float = 0.0,
    probe: tuple[int | None, float] = (None, NPROBE_POWER),
    prf_rescore: str = "never",
) -> Ranked:
    """Top ``depth`` rows for ``text`` in ``mode`` (``bm25``, ``dense``, ``hybrid``) within ``allowed``.

    ``weights`` are (lexical, dense) for fusion; ``encode`` is called only when dense scores are needed.
    ``coverage_power`` > 0: the lexical weight × :func:`lexical_confidence` to that power. ``multilingual`` =
    (vectors, query encoder, weight, gated): the multilingual index as a third z-score signal (``zscore`` only);
    gated, its weight is scaled by the share of query words the catalog does *not* know, plus ``multilingual_base``.
    ``match_power``, ``length_pivot``: :func:`query_weights` on ``query_text`` (no added synonyms; default ``text``).
    ``model``: :func:`fusion_weights`. ``clip_missing``, ``z_floor``, ``z_cap``: :func:`zscore`; ``foreign_floor``:
    :func:`_fuser`. ``prf`` = (k, beta), k > 0: hybrid fuses, moves the dense query toward its top k (:func:`rocchio`),
    re-scores the dense side (``prf_rescore``: :func:`rescores_candidates`) and fuses again. ``probe``: :func:`dense`.
    """
    lex = lexical(lexical_index, text, depth, allowed) if mode in ("bm25", "hybrid") else Ranked.empty()
    if mode == "bm25":
        return lex
    q = encode(text)
    den = dense(dense_index, vectors, q, depth, allowed, exact_threshold=exact_threshold, probe=probe)
    if mode == "dense":
        return den
    wl, wd, mw = fusion_weights(
        lexical_index, text, query_text or text, lex, den, weights=weights, coverage_power=coverage_power,
        multilingual=(multilingual[2], multilingual[3], multilingual_base) if multilingual is not None else None,
        match_power=match_power, length_pivot=length_pivot, model=model)
    third = _third(multilingual, fusion, mw, text, depth, allowed)
    fuse = _fuser(lexical_index, text, lex, vectors, fusion=fusion, weights=(wl, wd), depth=depth, rrf_k=rrf_k,
                  third=third, clip=clip_missing, z_floor=z_floor, z_cap=z_cap, foreign_floor=foreign_floor)
    fused = fuse(den, q)
    if prf[0] <= 0 or prf[1] <= 0 or not len(fused):
        return fused
    q2 = rocchio(q, vectors, fused.rows[: prf[0]], prf[1])
    return fuse(dense(None, vectors, q2, depth, np.union1d(den.rows, lex.rows))  # the candidates, scored exactly
                if rescores_candidates(prf_rescore, dense_index)
                else dense(dense_index, vectors, q2, depth, allowed, exact_threshold=exact_threshold, probe=probe), q2)


def rescores_candidates(rule: str, dense_index: Any) -> bool:
    """Whether the Rocchio pass re-scores the first pass's candidates instead of searching the index again.

    ``"never"``: it searches again (the moved query may reach rows neither first list held); ``"always"``: it
    re-scores; ``"approximate"``: it re-scores only where the dense index is approximate (IVF, HNSW: a second
    search there costs a whole second probe, ~2-3 ms at 1M products, and its answer is approximate anyway), so a
    flat or exact search keeps its exact second pass.
    """
    if rule == "always":
        return True
    if rule != "approximate" or dense_index is None or hasattr(dense_index, "topk"):
        return False
    return index_kind(dense_index) in ("ivf", "hnsw")

