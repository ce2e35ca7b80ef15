"""How one answer is presented once ranked: its order, facets, explanations and highlights.

* :func:`arrange` — the order of the answer. Buyer preferences and "cheapest" first
  (:func:`search.items.soft_order`); then an explicit ``sort`` (which wins over "cheapest":
  :func:`search.retrieval.order.sort_exact`, by the price of the variant each result returns); else, with
  ``buyable_first`` and relevance order, buyable results first within bands of similar relevance
  (:func:`search.retrieval.order.buyable_first`).
* :func:`answer_facets` — the requested facets over the exact results (:mod:`search.filter.facets`).
* :func:`decorate` — ``explain`` (constraints met and missed, why this variant, what moved the result) and
  ``_highlight`` (:mod:`search.query.highlight`) on one result; :func:`add_scores` fills the lexical and dense
  scores of a page's explanations at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from indexer.sanitise import plain_text
from search.filter.catalog import CatalogArrays, parse_time
from search.filter.constraints import AttrConstraint
from search.filter.explain import constraint_names, variant_reason
from search.filter.facets import FacetInput, facet_counts
from search.filter.pick import Pick, pick_variant
from search.filter.variants import rows_have_variant
from search.items import soft_order
from search.query.highlight import mark, snippet
from search.query.interpret import Interpretation, explicit_attr_constraint
from search.query.memo import IdentityCache
from search.retrieval.order import Entry, buyable_first, currency_note, sort_exact
from search.schema import (
    ColorReading,
    Explanation,
    FacetValue,
    Highlight,
    Interpreted,
    Result,
    SearchRequest,
)

_CONSTRAINTS: IdentityCache[dict[tuple[str, str, frozenset[str] | None], AttrConstraint]] = IdentityCache(4)


@dataclass(frozen=True)
class View:
    """What decorating one page needs: the reading, the masks, and where each row stood by relevance."""

    it: Interpretation
    vmask: np.ndarray | None
    extra: np.ndarray | None
    buyable: np.ndarray | None  # the eligibility mask when buyable_first is on
    now: float
    missed: set[int]
    relevance: dict[int, tuple[int, float]]  # row → (place by relevance, retrieval score)
    stems: frozenset[str] | None  # the words to highlight (None: no highlight)
    explain: bool = False
    moved_by: str | None = None  # what reordered the answer after relevance


def chosen(cat: CatalogArrays, it: Interpretation, row: int, vmask: np.ndarray | None,
           buyable: np.ndarray | None) -> Pick:
    """The variant exact result ``row`` returns (as :meth:`search.engine.Engine.search` shows it)."""
    return pick_variant(cat, row, it.constraints, exact=True, vmask=vmask, extra=None, buyable=buyable,
                        hints=it.hints, text=it.text)


def arrange(cat: CatalogArrays, request: SearchRequest, it: Interpretation, order: list[Entry],
            vmask: np.ndarray | None, elig: np.ndarray | None) -> tuple[list[Entry], Interpretation, str | None]:
    """The answer's order, the reading with the sort applied (echoed), and what moved results (module doc)."""
    sort = request.sort if request.sort != "relevance" else None
    buyable = elig if request.buyable_first else None
    moved_by: str | None = sort or ("cheapest" if it.sort else ("buyer preferences" if it.preferences else None))
    order = soft_order(cat, replace(it, sort=None) if sort else it, request.context, order, vmask)
    if sort is not None:
        def price_of(row: int) -> tuple[str, int] | None:
            v = chosen(cat, it, row, vmask, buyable).variant
            price = int(cat.var_price[v])
            return (cat.currencies[int(cat.var_cur[v])], price) if price >= 0 else None

        order, currencies = sort_exact(order, sort, price_of=price_of,
                                       time_of=lambda row: parse_time(cat.products[row].updated_at),
                                       first_currency=it.constraints.currency or request.context.currency,
                                       rates=request.rates)
        note = currency_note(sort, currencies, request.rates)
        it = replace(it, sort=sort, notes=(*it.notes, note) if note else it.notes)
    elif buyable is not None and it.sort is None:
        before = [o[0] for o in order]
        # every row's flag in one vectorised pass over the candidates' variants (row_buyable's rule)
        flags = dict(zip(before, rows_have_variant(cat, np.asarray(before, dtype=np.int64), vmask, buyable).tolist(),
                         strict=True))
        order = buyable_first(order, flags.__getitem__)
        if [o[0] for o in order] != before:
            moved_by = moved_by or "buyable_first"
    return order, it, moved_by


def interpreted_out(it: Interpretation) -> Interpreted:
    """The reading echoed in a response."""
    return Interpreted(text=it.text, filters=it.filters, country=it.country,
                       country_source=it.country_source, sort=it.sort,  # type: ignore[arg-type]
                       notes=list(it.notes), preferences=it.preferences or {},
                       corrected=dict(it.corrected), expanded=list(it.expanded), languages=list(it.languages),
                       colors=[ColorReading(word=c.word, family=c.family, values=list(c.values)) for c in it.colours])


def answer_facets(cat: CatalogArrays, names: Sequence[str], order: Sequence[Entry], vmask: np.ndarray | None,
                  it: Interpretation, fallback_attrs: frozenset[str] | None) -> dict[str, list[FacetValue]]:
    """The requested facets over the exact results of ``order`` (every page)."""
    rows = np.asarray([o[0] for o in order if o[2]], dtype=np.int64)
    memo = _CONSTRAINTS.get(cat, dict)  # (attribute, value, fallback) → its filter constraint, per snapshot

    def constraint(name: str, value: str) -> AttrConstraint:
        key = (name, value, fallback_attrs)
        ac = memo.get(key)
        if ac is None:
            ac = memo[key] = explicit_attr_constraint(name, value, cat, fallback_attrs=fallback_attrs)
        return ac

    fi = FacetInput(cat, rows, vmask, it.constraints, constraint)
    return {name: [FacetValue(value=f.value, count=f.count, label=f.label, min=f.min, max=f.max,
                              currency=f.currency) for f in counts]
            for name, counts in facet_counts(fi, names).items()}


def decorate(out: Result, cat: CatalogArrays, view: View, row: int, pick: Pick, place: int) -> Result:
    """``out`` with ``explain`` and ``_highlight`` when asked (module docstring)."""
    update: dict[str, Any] = {}
    it = view.it
    if view.explain:
        rel_place, retrieval = view.relevance.get(row, (place, out.score))
        moved = ([f"relevance place {rel_place + 1}, shown at {place + 1}: {view.moved_by or 'reordered'}"]
                 if rel_place != place and view.moved_by else [])
        update["explain"] = Explanation(
            lexical=None, dense=None, fused=retrieval, score=out.score,
            met=[n for n in constraint_names(it.constraints) if n not in pick.unmet], unmet=list(out.match.unmet),
            variant_reason=variant_reason(cat, row, pick.candidates, pick.variant, exact=out.match.exact,
                                          hints=it.hints, text=it.text, buyable_preferred=pick.buyable_preferred),
            order=moved)
    if view.stems is not None:
        p = cat.products[row]
        update["highlight"] = Highlight(title=mark(out.title, view.stems),
                                        description=snippet(plain_text(p.body_text or p.body_html), view.stems))
    return out.model_copy(update=update) if update else out


def add_scores(snap: Any, mode: str, text: str, results: Sequence[Result], encode: Callable[[str], np.ndarray]
               ) -> None:
    """Fill the lexical (BM25) and dense (cosine with the query's own vector) scores of a page's explanations.

    Both are for the ranking words; the dense score is left out in ``bm25`` mode (no query vector is made).
    """
    if not text.strip() or not results:
        return
    lexical = snap.lexical.scores(text)
    q = encode(text) if mode != "bm25" else None
    for r in results:
        row = snap.row_of(r.doc_id)
        if r.explain is None or row is None:
            continue
        r.explain.lexical = round(float(lexical[row]), 6)
        r.explain.dense = round(float(snap.vectors[row] @ q), 6) if q is not None else None
