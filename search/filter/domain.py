"""Which variants a filter tests (:mod:`search.filter.variants`): all of them, or those of a few product rows.

At 1M products (2.6M variants) a pass over every variant costs milliseconds per search: a product mask spread to
its variants by a gather through ``var_row``, a comparison of every price. A product-level filter that
allows few rows (a merchant filter at 1 %) makes every variant-level test run over those rows' variants only,
and a sparse product mask (a text fallback's rows) is spread by index ranges. A selective attribute constraint (a
colour, a size) does the same for the tests after it (:func:`narrow`). Same masks either way (tested in
``tests/search/filter/test_domain.py`` against the one-variant rule, :func:`search.filter.variants.variant_unmet`).
"""

from __future__ import annotations

import numpy as np

from search.filter.catalog import CatalogArrays
from search.filter.constraints import AttrConstraint
from search.filter.merge import ranges

# A product mask with at most 1/SPARSE of its rows set is spread to the variants by index ranges over those rows'
# variants, not by a gather through ``var_row``, which reads every variant (1.7 ms at 2.6M variants, 1M products,
# best of 5; the ranges cost 0.3 ms at 0.1 % of the rows set, 0.7 ms at 1 %, 2.2 ms at 5 %); a product-level
# filter that selective also restricts every variant-level test to its rows' variants (Domain).
SPARSE = 64
# A variant mask over every variant with at most 1/NARROW of them set (the variants of one colour or size, after the
# attribute constraints) makes every further test (price, unknown variants, availability, a broad product filter,
# the allowed rows) run over those variants only (:func:`narrow`): at 1M products a price test, a product mask's
# gather and the rows of a dense mask each read all 2.6M variants (docs/benchmarks.md, "Query encoding beside the
# filter").
NARROW = 8


def variants_in(cat: CatalogArrays, rows: np.ndarray) -> np.ndarray:
    """The variant indices of product ``rows``, each row's contiguous, in the order of ``rows``."""
    starts = cat.var_start[rows]
    return ranges(starts, cat.var_start[rows + 1] - starts)


def spread(cat: CatalogArrays, pm: np.ndarray) -> np.ndarray:
    """bool (V,): ``pm[cat.var_row]``, the variants of the products set in ``pm`` (bool (N,)); cost in the
    variants of those products when few are set (``SPARSE``)."""
    rows = np.flatnonzero(pm)
    if rows.size * SPARSE > pm.size:
        return pm[cat.var_row]
    m = np.zeros(cat.n_variants, dtype=bool)
    m[variants_in(cat, rows)] = True
    return m


class Domain:
    """The variants a filter tests: every variant (``idx`` None), or the variants ``idx`` (sorted) of the rows a
    selective product-level filter allows. ``variants``/``products`` give a (V,) / (N,) array's entries for them."""

    def __init__(self, cat: CatalogArrays, idx: np.ndarray | None = None) -> None:
        self.cat, self.idx = cat, idx
        self.rows = None if idx is None else cat.var_row[idx]

    def variants(self, a: np.ndarray) -> np.ndarray:
        return a if self.idx is None else a[self.idx]

    def products(self, a: np.ndarray) -> np.ndarray:
        return spread(self.cat, a) if self.rows is None else a[self.rows]


def narrow(dom: Domain, m: np.ndarray | None) -> tuple[Domain, np.ndarray | None]:
    """``(dom, m)`` as they are, or, when ``dom`` is every variant and the mask ``m`` (bool (V,)) is selective
    (``NARROW``), the domain of ``m``'s variants and None (every variant of it): the same variants either way."""
    if dom.idx is not None or m is None or np.count_nonzero(m) * NARROW > m.size:
        return dom, m
    return Domain(dom.cat, np.flatnonzero(m)), None


def attribute_variants(cat: CatalogArrays, ac: AttrConstraint) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The variants meeting one attribute constraint, of every variant (those of an option value under one of its
    keys, and every variant of a product without that option whose words say a fallback value): ``(indices, None)``,
    sorted, when they are at most 1/``NARROW`` of all (counted from the postings, no pass over the variants), else
    ``(None, bool (V,) mask)``, the mask of :func:`search.filter.variants.attr_mask`."""
    postings = cat.attr_postings.get(ac.canonical, {})
    lists = [vs for vs in (postings.get(key) for key in ac.keys) if vs is not None]
    said = None
    if ac.text_fallback_keys:
        by_text = cat.phrase_rows(ac.text_fallback_keys)
        has = cat.prod_has_attr.get(ac.canonical)
        if has is not None:
            by_text &= ~has
        said = np.flatnonzero(by_text)
        lists.append(variants_in(cat, said))
    if sum(len(vs) for vs in lists) * NARROW <= cat.n_variants:
        return _sorted_distinct(lists), None
    m = np.zeros(cat.n_variants, dtype=bool)
    for vs in lists:
        m[vs] = True
    return None, m


def _sorted_distinct(lists: list[np.ndarray]) -> np.ndarray:
    """The distinct values of ``lists``, sorted, int64: a sort and a neighbour comparison (numpy 2's ``unique``
    hashes first: 100 ms for 200k variant indices against 2 ms)."""
    a = np.concatenate([np.zeros(0, dtype=np.int64), *lists]).astype(np.int64, copy=False)
    a.sort()
    if a.size < 2:
        return a
    keep = np.empty(a.size, dtype=bool)
    keep[0] = True
    np.not_equal(a[1:], a[:-1], out=keep[1:])
    return a[keep]
