"""The attribute-exact filter (variant level) and the choice of the variant to return.

A product qualifies only if **one of its variants** satisfies every constraint at once: colour AND
size AND price AND availability (when asked) on the *same* variant, plus the product-level
constraints (vendor, product type, merchant, platform). The matching rules are in
:mod:`search.filter.constraints`.

* :func:`satisfying_mask` answers for every variant of the catalog at once with numpy (postings
  unions and array comparisons, no per-product Python loop), so the engine knows the allowed
  products *before* retrieval and searches within them.
* An exclusion (``Constraints.exclude``, "not black") is the same attribute rule inverted: a variant whose
  option shows an excluded value, or a product without that option whose own words say it, never qualifies.
* :func:`variant_unmet` is the same rule for one variant, naming the constraints it fails (the
  ``unmet`` list of near matches).
* An Etsy listing whose variants are unknown (``prod_variants_unknown``: read at listing level, without the
  owner's grant) never meets a variant-level constraint (attribute, exclusion, price) exactly, however its
  title or listing-level price reads: it can only be a near match naming those constraints unmet.
* :func:`choose_variant` picks the variant to return among a product's candidates: the one whose
  option values best match the shopper's loose words (``hints`` such as "40 oz", "around 140 cm",
  and the query text), then available before unavailable, then the cheapest, then the merchant's
  order.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np

from indexer.attributes import option_pairs
from indexer.models import Variant
from search.filter import domain
from search.filter.catalog import CatalogArrays
from search.filter.constraints import AttrConstraint, Constraints, norm_label, tokens, variant_value_keys
from search.filter.domain import Domain, variants_in
from search.filter.shipping import is_digital, merchant_ships_to


def attr_mask(cat: CatalogArrays, ac: AttrConstraint) -> np.ndarray:
    """bool (V,): variants meeting one attribute constraint (an option value, or the product's words)."""
    return _attr(cat, ac, Domain(cat))


def _attr(cat: CatalogArrays, ac: AttrConstraint, dom: Domain) -> np.ndarray:
    m = np.zeros(cat.n_variants, dtype=bool)
    postings = cat.attr_postings.get(ac.canonical, {})
    for key in ac.keys:
        vs = postings.get(key)
        if vs is not None:
            m[vs] = True
    m = dom.variants(m)
    if ac.text_fallback_keys:
        has = cat.prod_has_attr.get(ac.canonical)
        by_text = cat.phrase_rows(ac.text_fallback_keys)
        if has is not None:
            by_text &= ~has
        m |= dom.products(by_text)
    return m


def fallback_within(cat: CatalogArrays, ac: AttrConstraint, idx: np.ndarray,
                    phrase_rows: Callable[[frozenset[str]], np.ndarray] | None = None) -> np.ndarray:
    """The text-fallback half of :func:`attr_mask` for the variants ``idx`` only: bool per entry of ``idx``
    (a product without an option of the attribute whose own words contain a fallback value).

    ``phrase_rows(keys)``: the sorted product rows whose words hold one of ``keys`` (default: from
    :meth:`CatalogArrays.phrase_rows`; a caller may pass a cached one)."""
    m = np.zeros(idx.size, dtype=bool)
    if ac.text_fallback_keys:
        has = cat.prod_has_attr.get(ac.canonical)
        rows = cat.var_row[idx]
        lack = np.ones(idx.size, dtype=bool) if has is None else ~has[rows]
        if lack.any():
            said = (phrase_rows(ac.text_fallback_keys) if phrase_rows is not None
                    else np.flatnonzero(cat.phrase_rows(ac.text_fallback_keys)))
            m = lack & np.isin(rows, said)
    return m


def vendor_phrase_keys(vendors: Sequence[str]) -> list[str]:
    """Vendor names as token phrases for the whole-word title match."""
    return [" ".join(tokens(v)) for v in vendors if tokens(v)]


def product_mask(cat: CatalogArrays, cons: Constraints) -> np.ndarray | None:
    """bool (N,) of products meeting the product-level constraints; None when there are none."""
    m: np.ndarray | None = None

    def _and(x: np.ndarray) -> None:
        nonlocal m
        m = x if m is None else (m & x)

    if cons.vendors:
        vm = cat.rows_mask(cat.vendor_rows, cons.vendors)
        if cons.vendor_in_title:
            vm |= cat.phrase_rows(vendor_phrase_keys(cons.vendors), title_only=True)
        _and(vm)
    if cons.product_types:
        _and(cat.rows_mask(cat.type_rows, cons.product_types))
    if cons.merchants:
        _and(cat.rows_mask(cat.merchant_rows, cons.merchants))
    if cons.platforms:
        _and(cat.rows_mask(cat.platform_rows, cons.platforms))
    if cons.ship_to:
        _and(cat.ships_mask(cons.ship_to))
    return m


def price_mask(cat: CatalogArrays, cons: Constraints) -> np.ndarray:
    """bool (V,) of variants meeting the price constraint (own currency only, priced variants only)."""
    return _price(cat, cons, Domain(cat))


def _price(cat: CatalogArrays, cons: Constraints, dom: Domain) -> np.ndarray:
    price = dom.variants(cat.var_price)
    m = price >= (0 if cons.price_min is None else max(0, cons.price_min))  # priced (-1: none), and the minimum
    if cons.currency is not None:
        m &= dom.variants(cat.var_cur) == cat.currency_code(cons.currency)
    if cons.price_max is not None:
        m &= price <= cons.price_max
    return m


def satisfying_mask(cat: CatalogArrays, cons: Constraints, extra: np.ndarray | None = None) -> np.ndarray | None:
    """bool (V,) of variants meeting every constraint (and ``extra``, a variant mask such as eligibility).

    None means "no constraint at all": every variant qualifies.
    """
    m, dom = _satisfying(cat, cons, extra)
    if dom.idx is None:
        return m
    out = np.zeros(cat.n_variants, dtype=bool)
    out[dom.idx if m is None else dom.idx[m]] = True
    return out


def _satisfying(cat: CatalogArrays, cons: Constraints, extra: np.ndarray | None) -> tuple[np.ndarray | None, Domain]:
    """The mask of :func:`satisfying_mask` over the variants of a domain (:mod:`search.filter.domain`), and the domain;
    a mask of None over a restricted domain means every variant of it."""
    pm = product_mask(cat, cons)
    dom = Domain(cat)
    if pm is not None:
        rows = np.flatnonzero(pm)
        if rows.size * domain.SPARSE <= pm.size:  # selective: only these rows' variants are tested further
            dom, pm = Domain(cat, variants_in(cat, rows)), None
    m: np.ndarray | None = None if extra is None else dom.variants(extra).copy()

    def _and(x: np.ndarray) -> None:
        nonlocal m
        m = x if m is None else (m & x)

    for ac in cons.attributes:
        if dom.idx is not None:
            _and(_attr(cat, ac, dom))
            continue
        idx, full = domain.attribute_variants(cat, ac)  # a selective one (a size): the tests below read its variants
        if full is not None:
            _and(full)
        else:
            m, dom = (None if m is None else m[idx]), Domain(cat, idx)
    for ac in cons.exclude:  # "not black": no variant showing an excluded value (nor a product saying it)
        _and(~_attr(cat, ac, dom))
    dom, m = domain.narrow(dom, m)  # a selective colour or size: the tests below read its variants only
    if cons.has_price:
        _and(_price(cat, cons, dom))
    if (cons.attributes or cons.exclude or cons.has_price) and cat.prod_variants_unknown.any():
        # A listing whose variants are unknown (Etsy, read without the owner's grant) cannot meet a
        # variant-level constraint exactly: its listing-level price is only the minimum of its variants.
        _and(~dom.products(cat.prod_variants_unknown))
    if cons.available_only:
        _and(dom.variants(cat.var_available).copy())
    if pm is not None:
        _and(dom.products(pm))
    return m, dom


def rows_of(cat: CatalogArrays, vmask: np.ndarray) -> np.ndarray:
    """Sorted product rows that have at least one variant in ``vmask``.

    ``var_row`` is non-decreasing (each product's variants are contiguous, in row order), so the
    rows of the selected variants come sorted and a neighbour comparison de-duplicates them: linear,
    where ``np.unique`` would hash or sort (8 ms for 26k variants, 75 ms at 1M products).
    """
    return _distinct(cat.var_row[vmask])


def _distinct(r: np.ndarray) -> np.ndarray:
    """The distinct values of the non-decreasing ``r``, as int64."""
    if r.size < 2:
        return r.astype(np.int64, copy=False)
    keep = np.empty(r.size, dtype=bool)
    keep[0] = True
    np.not_equal(r[1:], r[:-1], out=keep[1:])
    return r[keep].astype(np.int64, copy=False)


def allowed_rows(cat: CatalogArrays, cons: Constraints, extra: np.ndarray | None = None
                 ) -> tuple[np.ndarray | None, np.ndarray | None]:
    """``(vmask, allowed)``: the variants meeting every constraint and the sorted rows owning one.

    When every constraint is product-level (merchant, platform, vendor, product type) and there is
    no ``extra`` mask, every variant of an allowed product qualifies: ``vmask`` is then None ("any
    variant of an allowed row") and no per-variant pass is made, which at 1M products (2.6M
    variants) saves most of the filter's time. ``(None, None)`` means no constraint at all.
    """
    if extra is None and not cons.has_variant_constraints:
        pm = product_mask(cat, cons)
        if pm is None:
            return None, None
        ok = np.flatnonzero(pm).astype(np.int64)
        return None, ok[cat.var_start[ok + 1] > cat.var_start[ok]]  # no variant, nothing can qualify
    m, dom = _satisfying(cat, cons, extra)
    idx, rows = dom.idx, dom.rows
    if idx is None or rows is None:
        return m, (None if m is None else rows_of(cat, m))
    vmask = np.zeros(cat.n_variants, dtype=bool)  # the rows come from the domain's: no pass over every variant
    vmask[idx if m is None else idx[m]] = True
    return vmask, _distinct(rows if m is None else rows[m])


def variants_of_rows(cat: CatalogArrays, rows: np.ndarray) -> np.ndarray:
    """bool (V,): every variant of the given product rows."""
    pm = np.zeros(cat.n_products, dtype=bool)
    pm[rows] = True
    return pm[cat.var_row]


def rows_have_variant(cat: CatalogArrays, rows: np.ndarray, vmask: np.ndarray | None,
                      also: np.ndarray | None = None) -> np.ndarray:
    """bool per entry of ``rows``: the product has a variant in ``vmask`` (None = any) and in ``also``.

    Costs the variants of ``rows`` only (a ranked page), never a pass over the whole catalog.
    """
    rows = np.asarray(rows, dtype=np.int64)
    starts = cat.var_start[rows]
    lens = cat.var_start[rows + 1] - starts
    total = int(lens.sum())
    if total == 0:
        return np.zeros(rows.size, dtype=bool)
    seg = np.repeat(np.arange(rows.size), lens)
    idx = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(lens) - lens, lens) + np.repeat(starts, lens)
    ok = np.ones(total, dtype=bool)
    if vmask is not None:
        ok &= vmask[idx]
    if also is not None:
        ok &= also[idx]
    return np.bincount(seg[ok], minlength=rows.size) > 0


# --- one variant ---------------------------------------------------------------------------------


def _attr_met(cat: CatalogArrays, row: int, var: Variant, ac: AttrConstraint) -> bool:
    for ov in var.options:
        for attr, value in option_pairs(ov.name, ov.value, ov.canonical):  # as the postings read it
            if attr == ac.canonical and variant_value_keys(value) & ac.keys:
                return True
    if ac.text_fallback_keys:
        has = cat.prod_has_attr.get(ac.canonical)
        if (has is None or not has[row]) and cat.product_has_phrase(row, ac.text_fallback_keys):
            return True
    return False


def variant_unmet(cat: CatalogArrays, row: int, var: Variant, cons: Constraints) -> list[str]:
    """Names of the constraints ``var`` (a variant of product ``row``) fails; empty = it meets them all.

    Names: the attribute filter keys as given, ``exclude.<key>`` for an excluded value shown, then ``price``,
    ``available``, ``vendor``, ``product_type``, ``merchant``, ``platform``, ``country`` (a destination the
    shopper named).
    """
    p = cat.products[row]
    unknown = bool(cat.prod_variants_unknown[row])  # variants unknown: no variant-level constraint is known met
    out = [ac.label for ac in cons.attributes if unknown or not _attr_met(cat, row, var, ac)]
    out += [f"exclude.{ac.label}" for ac in cons.exclude if unknown or _attr_met(cat, row, var, ac)]
    if cons.has_price:
        ok = var.price is not None
        ok = ok and (cons.currency is None or (var.currency or "").upper() == cons.currency.upper())
        ok = ok and (cons.price_min is None or (var.price or 0) >= cons.price_min)
        ok = ok and (cons.price_max is None or (var.price or 0) <= cons.price_max)
        if unknown or not ok:
            out.append("price")
    if cons.available_only and not var.available:
        out.append("available")
    if cons.vendors:
        ok = p.vendor is not None and norm_label(p.vendor) in cons.vendors
        if not ok and cons.vendor_in_title:
            ok = cat.product_has_phrase(row, vendor_phrase_keys(cons.vendors), title_only=True)
        if not ok:
            out.append("vendor")
    if cons.product_types and not (p.product_type and norm_label(p.product_type) in cons.product_types):
        out.append("product_type")
    if cons.merchants and p.merchant_id not in cons.merchants:
        out.append("merchant")
    if cons.platforms and p.platform not in cons.platforms:
        out.append("platform")
    if cons.ship_to:
        m = cat.merchants.get(p.merchant_id)
        if not is_digital(p) and (m is None or not merchant_ships_to(m, cons.ship_to)):
            out.append("country")
    return out


# --- loose variant choice ------------------------------------------------------------------------

_NUM_UNIT = re.compile(r"^(\d+(?:\.\d+)?)([a-z]*)$")


def _numbers(toks: Sequence[str]) -> list[tuple[float, str]]:
    out = []
    for t in toks:
        m = _NUM_UNIT.match(t)
        if m:
            out.append((float(m.group(1)), m.group(2)))
    return out


def _hint_score(hint_toks: Sequence[str], value_toks: set[str], value_nums: list[tuple[float, str]]) -> float:
    """How well one loose hint matches a variant's option words: word overlap, else numeric closeness."""
    if not hint_toks:
        return 0.0
    overlap = sum(1 for t in hint_toks if t in value_toks) / len(hint_toks)
    best_num = 0.0
    for num, unit in _numbers(hint_toks):
        for vnum, vunit in value_nums:
            if unit and vunit and unit != vunit:
                continue
            closeness = 1.0 / (1.0 + abs(num - vnum) / max(abs(num), 1.0) * 10.0)
            best_num = max(best_num, closeness)
    return max(overlap, best_num)


def choice_keys(cat: CatalogArrays, row: int, candidates: Sequence[int], *, hints: Sequence[str] = (),
                text: str = "") -> dict[int, tuple[float, float, int, int, int]]:
    """The sort key of each candidate variant (the lowest is chosen; see :func:`choose_variant`):
    (−hint match, −words shared with the query, unavailable, price, merchant's position)."""
    start = int(cat.var_start[row])
    variants = cat.products[row].variants
    hint_toks = [tokens(h) for h in hints if h]
    text_toks = set(tokens(text)) if text else set()

    def key(v: int) -> tuple[float, float, int, int, int]:
        var = variants[v - start]
        vt: set[str] = set()
        for ov in var.options:
            vt.update(tokens(ov.value))
        nums = _numbers(sorted(vt))
        hs = sum(_hint_score(h, vt, nums) for h in hint_toks)
        ts = len(vt & text_toks) if text_toks else 0
        price = var.price if var.price is not None else np.iinfo(np.int64).max
        return (-hs, -float(ts), 0 if var.available else 1, int(price), var.position)

    return {int(v): key(int(v)) for v in candidates}


def choose_variant(
    cat: CatalogArrays,
    row: int,
    candidates: Sequence[int],
    *,
    hints: Sequence[str] = (),
    text: str = "",
) -> int:
    """Flat index (one of ``candidates``, all variants of ``row``) of the variant to return.

    Order: best loose-hint match (each hint scored by word overlap or numeric closeness with the
    variant's option values), then best overlap with the query text's words, then available, then
    cheapest (unpriced last), then the merchant's own order.
    """
    if len(candidates) == 1:
        return int(candidates[0])
    keys = choice_keys(cat, row, candidates, hints=hints, text=text)
    return min(keys, key=lambda v: keys[v])
