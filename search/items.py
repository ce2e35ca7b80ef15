"""Several items in one message, "cheapest", and the buyer's soft preferences: the order of an answer.

* :func:`split_items` — "a red beanie and a navy scarf" → ``["a red beanie", "a navy scarf"]``. The rule
  (written down because the issue leaves it open): split on " and " / " plus " / " & " / ";" / ", and "
  only when **both** parts name a product kind, i.e. hold a noun the catalog sells (a word of a product
  title or type, not a colour, size or function word) **and** the left part is more than one bare word (it
  carries an article, a colour, a size or another modifier). So "black and white sneakers" (the left part is a
  colour), "salt and pepper grinder" and "fish and chips" (a bare first word: a compound name) stay whole.
* :func:`soft_order` — reorders the exact results: with ``sort == "price_asc"`` ("cheapest") the results
  whose own words (title, tags, type) name every content word of the query ("cheapest *beanie*") come first,
  by the price of their cheapest qualifying variant, lowest first, then the other exact results in relevance
  order (the cheapest mug is not the cheapest beanie). Prices compare only within one currency (no
  conversion): the price filter's or the context's currency first, else the top-ranked result's, then the
  other currencies, each by price; else each buyer preference met (a preferred size on a
  qualifying variant, a price in the budget, a preferred brand) lifts the score by 10%: a boost, never a
  filter. Near matches keep their place after the exact ones.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from itertools import zip_longest
from typing import Any

import numpy as np

from indexer.attributes import option_pairs
from search.filter.catalog import CatalogArrays
from search.filter.keys import label_key, text_tokens, value_key
from search.query.interpret import Interpretation
from search.query.memo import IdentityCache
from search.schema import Context, ItemResponse, SearchRequest, SearchResponse

_SPLIT = re.compile(r"\s*(?:,\s*and|,?\s+and\s+also|\s+and|\s+plus|\s*&|;)\s+", re.I)
_FUNCTION = frozenset("a an the some one two my for with in of to me i need want looking also and".split())
PREFERENCE_BOOST = 0.1
_KINDS: IdentityCache[frozenset[str]] = IdentityCache(4)


def _kinds(cat: CatalogArrays) -> frozenset[str]:
    """Product-kind nouns of a catalog: the last word of each title and product type (cached per arrays)."""
    return _KINDS.get(cat, lambda: kind_nouns(cat))


def remember_kinds(cat: CatalogArrays, nouns: frozenset[str]) -> None:
    """Make ``nouns`` the kind nouns of ``cat`` (read from disk: :mod:`search.filter.columns`)."""
    _KINDS.put(cat, nouns)


def kind_nouns(cat: CatalogArrays) -> frozenset[str]:
    """The product-kind nouns of ``cat`` (a pass over its products; see :func:`_kinds`)."""
    return kind_nouns_of(kind_noun_tally(cat.products))


def kind_noun_tally(products: Iterable[Any]) -> dict[str, int]:
    """How many products end their title or product type with each word (additive over products)."""
    words: Counter[str] = Counter()
    for p in products:
        words.update({toks[-1].rstrip("s") for text in (p.title, p.product_type or "")
                      if (toks := re.findall(r"[^\W\d_]+", text.lower()))})
    return dict(words)


def kind_nouns_of(tally: Mapping[str, int]) -> frozenset[str]:
    """The kind nouns of a :func:`kind_noun_tally`."""
    return frozenset(w for w, n in tally.items() if n > 0 and len(w) >= 3 and w not in _FUNCTION)


def _names_kind(part: str, kinds: frozenset[str], *, left: bool) -> bool:
    """Whether a part names a product kind: a kind noun, possibly followed by what qualifies it.

    The noun may come before a trailing qualifier ("a scarf, not black", "a navy scarf in size M"): the
    part's first kind noun counts. A left part must still be more than one bare word (see the module rule).
    """
    words = re.findall(r"[^\W\d_]+", part.lower())
    if not any(w.rstrip("s") in kinds for w in words):
        return False
    return not left or len(words) >= 2


def split_items(query: str, cat: CatalogArrays) -> list[str]:
    """The items of a message (module docstring); one element when it names one item."""
    kinds = _kinds(cat)
    # Whitespace runs collapsed first: each \s of the pattern then meets one character, so the split is
    # linear (a run of 2,000 spaces made its ambiguous \s* / \s+ cost over a minute: issue 12 item 4).
    parts = [p.strip(" ,.") for p in _SPLIT.split(" ".join(query.split())) if p and p.strip(" ,.")]
    if len(parts) < 2 or len(parts) > 5:
        return [query]
    ok = all(_names_kind(p, kinds, left=k < len(parts) - 1) for k, p in enumerate(parts))
    return parts if ok else [query]


def _says(toks: tuple[str, ...], words: list[str]) -> bool:
    """The product's own words name every content word of the query (plural or singular)."""
    have = set(toks)
    return all(w in have or f"{w}s" in have or w.rstrip("s") in have for w in words)


def _pref_score(cat: CatalogArrays, row: int, cands: list[int], ctx: Context) -> int:
    p = cat.products[row]
    met = 0
    if ctx.sizes:
        want = {value_key(s) for s in ctx.sizes}
        if any(value_key(val) in want for v in cands for ov in p.variants[v - int(cat.var_start[row])].options
               for attr, val in option_pairs(ov.name, ov.value, ov.canonical) if attr == "size"):
            met += 1
    if ctx.brands and p.vendor and label_key(p.vendor) in {label_key(b) for b in ctx.brands}:
        met += 1
    b = ctx.budget
    if b is not None and (b.min is not None or b.max is not None):
        for v in cands:
            price, cur = int(cat.var_price[v]), cat.currencies[int(cat.var_cur[v])]
            if price >= 0 and (b.currency is None or cur == b.currency.upper()) and \
                    (b.min is None or price >= b.min) and (b.max is None or price <= b.max):
                met += 1
                break
    return met


def soft_order(cat: CatalogArrays, it: Interpretation, ctx: Context, order: list[tuple[int, float, bool]],
               vmask: np.ndarray | None) -> list[tuple[int, float, bool]]:
    """``order`` with its exact results reordered by "cheapest" or the buyer's preferences (module docstring)."""
    exact = [o for o in order if o[2]]
    if not exact or (it.sort is None and not it.preferences):
        return order
    rest = [o for o in order if not o[2]]

    def cands(row: int) -> list[int]:
        return [v for v in cat.variants_of(row) if vmask is None or vmask[v]]

    if it.sort == "price_asc":
        def cheapest(row: int) -> tuple[str, int]:
            got = [(int(cat.var_price[v]), cat.currencies[int(cat.var_cur[v])]) for v in cands(row)
                   if cat.var_price[v] >= 0]
            price, cur = min(got) if got else (int(np.iinfo(np.int64).max), "")
            return cur, price

        words = [w for w in text_tokens(it.text) if w not in _FUNCTION]
        named = [o for o in exact if _says(cat.text_tokens[o[0]], words)]
        others = [o for o in exact if not _says(cat.text_tokens[o[0]], words)]
        # prices compare only within one currency (no conversion): the asked currency first, else the top result's
        first = it.constraints.currency or ctx.currency or (cheapest(named[0][0])[0] if named else "")

        def key(o: tuple[int, float, bool]) -> tuple[bool, str, int]:
            cur, price = cheapest(o[0])
            return cur.upper() != (first or "").upper(), cur, price

        return sorted(named, key=key) + others + rest
    boosted = [(r, s * (1.0 + PREFERENCE_BOOST * _pref_score(cat, r, cands(r), ctx)), e) for r, s, e in exact]
    return sorted(boosted, key=lambda o: -o[1]) + rest


def answer_items(request: SearchRequest, resp: SearchResponse, cat: CatalogArrays,
                 search: Callable[[SearchRequest], SearchResponse]) -> SearchResponse:
    """``resp`` with ``items`` when the message names several (each searched on its own), else unchanged."""
    if request.cursor or not request.query.strip():
        return resp
    parts = split_items(request.query, cat)
    if len(parts) < 2:
        return resp
    items = []
    for part in parts:
        sub = search(request.model_copy(update={"query": part, "cursor": None}))
        items.append(ItemResponse(query=part, interpreted=sub.interpreted, results=sub.results))
    results, seen = [], set()
    for tier in zip_longest(*[i.results for i in items]):
        for r in tier:
            if r is not None and r.doc_id not in seen:
                seen.add(r.doc_id)
                results.append(r)
    note = f"the message names {len(items)} items; each is answered with its own constraints in 'items'"
    interpreted = resp.interpreted.model_copy(update={"notes": [*resp.interpreted.notes, note]})
    return resp.model_copy(update={"items": items, "results": results[: request.limit], "next_cursor": None,
                                   "interpreted": interpreted})
