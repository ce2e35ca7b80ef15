"""Facet counts over the exact matches of one answer, computed from the filter's arrays (no second query).

For each requested facet, every value that occurs among the exact matches (every page, up to the
engine's ``candidate_depth``) is listed with the number of those products that a filter on the value
returns: the count is taken with the **same rule** the filter applies, over the variants that already
satisfy the request's constraints (``vmask``), so clicking a value returns exactly ``count`` products.

* ``color``, ``size``, ``material`` (and any canonical attribute): the values are the parts of the
  qualifying variants' option values (``Red / White`` gives ``Red`` and ``White``), keyed by the one value
  normalisation (:func:`search.filter.keys.value_key`); each is counted with the constraint an explicit
  filter ``attributes: {name: [value]}`` builds (``attr_constraint``, from :mod:`search.query.interpret`:
  other-language forms and the colour family included, and the product-text fallback for products
  without such an option). A filter maps to ``filters.attributes``.
* ``vendor`` (maps to ``filters.vendor``; a brand named in the title counts as the filter does),
  ``merchant`` (value: the merchant id, ``label``: its name; maps to ``filters.merchant``), ``platform``.
* ``price``: per currency, buckets of one "nice" width (1, 2, 2.5 or 5 times a power of ten, major units)
  chosen so that at most :data:`MAX_BUCKETS` cover the qualifying prices; each bucket is inclusive in minor
  units (``0-25 USD`` is 0 to 2499) and clipped to the request's own price range, so it maps to
  ``filters.price {min, max, currency}`` exactly.
* ``availability``: ``available`` (a qualifying variant the merchant reports in stock; maps to
  ``filters.available_only``) and ``unavailable`` (the rest; no filter selects them).

Values are ordered by count (most first), then value; at most :data:`MAX_VALUES` per facet. Price buckets
keep price order.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from indexer.attributes import currency_exponent, option_pairs, value_parts
from indexer.sanitise import plain_text
from search.filter.catalog import CatalogArrays
from search.filter.constraints import AttrConstraint, Constraints, variant_value_keys
from search.filter.keys import label_key, value_key
from search.filter.variants import fallback_within, product_mask, rows_of
from search.query.memo import IdentityCache

MAX_VALUES = 50
CANDIDATES = 80  # attribute values counted per facet (those on most qualifying products)
MAX_BUCKETS = 6
_NICE = (1, 2, 2.5, 5)


@dataclass(frozen=True, slots=True)
class FacetCount:
    """One facet value and the number of exact matches a filter on it returns."""

    value: str
    count: int
    label: str | None = None
    min: int | None = None
    max: int | None = None
    currency: str | None = None


@dataclass(frozen=True, slots=True)
class FacetInput:
    """What one answer's facets are counted over: its exact rows, their qualifying variants, its constraints."""

    cat: CatalogArrays
    rows: np.ndarray  # exact rows of the answer, any order
    vmask: np.ndarray | None  # qualifying variants (None: every variant of an allowed row)
    constraints: Constraints
    attr_constraint: Callable[[str, str], AttrConstraint]  # the explicit-filter constraint of (attribute, value)

    def selected(self) -> np.ndarray:
        """bool (V,): qualifying variants of the exact rows."""
        pm = np.zeros(self.cat.n_products, dtype=bool)
        pm[np.asarray(self.rows, dtype=np.int64)] = True
        sel = pm[self.cat.var_row]
        return sel & self.vmask if self.vmask is not None else sel


def _count_rows(cat: CatalogArrays, m: np.ndarray) -> int:
    return int(rows_of(cat, m).size)


def _ranked(out: list[FacetCount]) -> list[FacetCount]:
    return sorted((f for f in out if f.count > 0), key=lambda f: (-f.count, f.value.lower()))[:MAX_VALUES]


_SAID: IdentityCache[dict[frozenset[str], np.ndarray]] = IdentityCache(4)
_SAID_MAX = 4096


def _said(cat: CatalogArrays, keys: frozenset[str]) -> np.ndarray:
    """Sorted rows whose own words hold one of ``keys`` (the text fallback), kept per snapshot."""
    memo = _SAID.get(cat, dict)
    hit = memo.get(keys)
    if hit is None:
        if len(memo) >= _SAID_MAX:
            memo.clear()
        hit = memo[keys] = np.flatnonzero(cat.phrase_rows(keys))
    return hit


def _shown(whole: str, part: str) -> str:
    """``part`` (a normalised part of option value ``whole``) as the merchant wrote it, where it can be found."""
    at = whole.lower().find(part)
    return whole[at : at + len(part)] if at >= 0 else part


class _OptionKeys:
    """Which value keys each qualifying variant's option of one attribute answers to (the keys the filter's
    postings hold, :func:`search.filter.constraints.variant_value_keys`), as a bool matrix."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.cols: dict[str, list[int]] = defaultdict(list)

    def add(self, i: int, value: str) -> None:
        for key in variant_value_keys(value):  # cached per value (lru)
            self.cols[key].append(i)

    def hits(self, keys: frozenset[str]) -> np.ndarray:
        m = np.zeros(self.n, dtype=bool)
        for key in keys:
            col = self.cols.get(key)
            if col:
                m[col] = True
        return m


def attribute_facet(fi: FacetInput, sel: np.ndarray, canonical: str) -> list[FacetCount]:
    """Values of attribute ``canonical`` among the qualifying variants, counted as a filter on each would.

    Values a filter reads as the same constraint (``grey``, ``grau`` and ``gris``: one colour, the same keys) are
    listed once, under the spelling most variants use. The :data:`CANDIDATES` values on most qualifying
    products are counted (a widened count is never below that), and the :data:`MAX_VALUES` highest kept.
    """
    cat = fi.cat
    idx = np.flatnonzero(sel)
    labels: dict[str, Counter[str]] = defaultdict(Counter)
    rows_of_key: dict[str, set[int]] = defaultdict(set)
    parsed: dict[str, list[tuple[str, str]]] = {}  # option value → its (key, shown) parts, once per value
    options = _OptionKeys(idx.size)
    var_rows = np.asarray(cat.var_row[idx])
    offsets = (idx - np.asarray(cat.var_start[var_rows])).tolist()  # one gather each: memory-mapped arrays
    for i, (row, off) in enumerate(zip(var_rows.tolist(), offsets, strict=True)):
        var = cat.products[row].variants[off]
        for value in (v for ov in var.options for a, v in option_pairs(ov.name, ov.value, ov.canonical)
                      if a == canonical):  # a composite option's part of this attribute
            options.add(i, value)
            parts = parsed.get(value)
            if parts is None:
                whole = plain_text(value).strip()
                parts = parsed[value] = [(value_key(p), _shown(whole, p)) for p in value_parts(whole)
                                         if p and value_key(p)]
            for key, shown in parts:
                labels[key][shown] += 1
                rows_of_key[key].add(row)
    rows = var_rows
    best: dict[frozenset[str], tuple[int, str, int]] = {}
    for key in sorted(labels, key=lambda k: (-len(rows_of_key[k]), k))[:CANDIDATES]:
        forms = labels[key]
        shown, _ = forms.most_common(1)[0]
        ac = fi.attr_constraint(canonical, shown)
        if ac.keys in best and (sum(forms.values()), shown) <= best[ac.keys][:2]:
            continue  # the same variant values accepted: one value under several names
        hit = options.hits(ac.keys) | fallback_within(cat, ac, idx, lambda keys: _said(cat, keys))
        best[ac.keys] = (sum(forms.values()), shown, int(np.unique(rows[hit]).size))
    return _ranked([FacetCount(shown, n) for _, shown, n in best.values()])


def _product_facet(fi: FacetInput, sel: np.ndarray, values: dict[str, tuple[str, str | None]],
                   mask_of: Callable[[str], np.ndarray]) -> list[FacetCount]:
    out = []
    for key, (shown, label) in values.items():
        out.append(FacetCount(shown, _count_rows(fi.cat, sel & mask_of(key)[fi.cat.var_row]), label=label))
    return _ranked(out)


def vendor_facet(fi: FacetInput, sel: np.ndarray) -> list[FacetCount]:
    """Vendors of the exact matches, counted as ``filters.vendor`` would (brand in the title included)."""
    cat = fi.cat
    values: dict[str, tuple[str, str | None]] = {}
    for row in rows_of(cat, sel).tolist():
        vendor = plain_text(cat.products[row].vendor or "").strip()
        if vendor:
            values.setdefault(label_key(vendor), (vendor, None))

    def mask_of(key: str) -> np.ndarray:
        pm = product_mask(cat, Constraints(vendors=(key,), vendor_in_title=fi.constraints.vendor_in_title))
        return pm if pm is not None else np.ones(cat.n_products, dtype=bool)

    return _product_facet(fi, sel, values, mask_of)


def merchant_facet(fi: FacetInput, sel: np.ndarray) -> list[FacetCount]:
    """Merchants of the exact matches: value = merchant id (what ``filters.merchant`` takes), label = name."""
    cat = fi.cat
    values: dict[str, tuple[str, str | None]] = {}
    for row in rows_of(cat, sel).tolist():
        mid = cat.products[row].merchant_id
        m = cat.merchants.get(mid)
        values.setdefault(mid, (mid, plain_text(m.name) if m is not None else None))
    return _product_facet(fi, sel, values, lambda key: cat.rows_mask(cat.merchant_rows, [key]))


def platform_facet(fi: FacetInput, sel: np.ndarray) -> list[FacetCount]:
    """Platforms (shopify, etsy) of the exact matches."""
    cat = fi.cat
    values: dict[str, tuple[str, str | None]] = {
        cat.products[r].platform: (cat.products[r].platform, None) for r in rows_of(cat, sel).tolist()}
    return _product_facet(fi, sel, values, lambda key: cat.rows_mask(cat.platform_rows, [key]))


def availability_facet(fi: FacetInput, sel: np.ndarray) -> list[FacetCount]:
    """``available`` (``filters.available_only``) and ``unavailable`` (the rest) among the exact matches."""
    total = _count_rows(fi.cat, sel)
    available = _count_rows(fi.cat, sel & fi.cat.var_available)
    return [f for f in (FacetCount("available", available), FacetCount("unavailable", total - available))
            if f.count > 0]


def nice_step(low: int, high: int, exponent: int) -> int:
    """The bucket width in minor units: a nice number of major units so that ``[low, high]`` needs few buckets."""
    unit = 10 ** exponent
    power = 1
    while True:
        for n in _NICE:
            step = int(round(n * power * unit))
            if step > 0 and (high // step) - (low // step) + 1 <= MAX_BUCKETS:
                return step
        power *= 10


def _major(minor: int, exponent: int) -> str:
    value = minor / (10 ** exponent)
    return f"{value:g}" if value == int(value) else f"{value:.{exponent}f}"


def price_facet(fi: FacetInput, sel: np.ndarray) -> list[FacetCount]:
    """Price buckets per currency (module docstring); currencies with the most matches first."""
    cat, cons = fi.cat, fi.constraints
    priced = sel & (cat.var_price >= 0)
    groups = []
    for ci in np.unique(cat.var_cur[priced]).tolist():
        cur = cat.currencies[ci]
        if len(cur) != 3:
            continue
        in_cur = priced & (cat.var_cur == ci)
        prices = cat.var_price[in_cur]
        exp = currency_exponent(cur)
        step = nice_step(int(prices.min()), int(prices.max()), exp)
        buckets = []
        for start in range(int(prices.min()) // step * step, int(prices.max()) + 1, step):
            lo = max(start, cons.price_min or 0)
            hi = min(start + step - 1, cons.price_max if cons.price_max is not None else start + step - 1)
            n = _count_rows(cat, in_cur & (cat.var_price >= lo) & (cat.var_price <= hi))
            if n:
                buckets.append(FacetCount(f"{_major(start, exp)}-{_major(start + step, exp)} {cur}", n,
                                          min=lo, max=hi, currency=cur))
        groups.append((-_count_rows(cat, in_cur), cur, buckets))
    return [b for _, _, bs in sorted(groups) for b in bs]


def facet_counts(fi: FacetInput, names: Sequence[str]) -> dict[str, list[FacetCount]]:
    """The requested facets (module docstring), each name once, in the order asked."""
    sel = fi.selected()
    special: dict[str, Callable[[FacetInput, np.ndarray], list[FacetCount]]] = {
        "vendor": vendor_facet, "merchant": merchant_facet, "platform": platform_facet,
        "availability": availability_facet, "price": price_facet,
    }
    out: dict[str, list[FacetCount]] = {}
    for name in dict.fromkeys(names):
        fn = special.get(name)
        out[name] = fn(fi, sel) if fn is not None else attribute_facet(fi, sel, name)
    return out
