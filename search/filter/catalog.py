"""In-memory arrays over one snapshot, built once at load so that filtering costs numpy, not Python loops.

:class:`CatalogArrays` flattens every variant of every product (products in snapshot row order,
each product's variants contiguous, ``var_start[row]:var_start[row + 1]``) into parallel numpy
arrays (row, price, currency, availability, quantity) and keeps postings:

* ``attr_postings[canonical][key]`` → sorted variant indices whose option of that canonical
  attribute answers to ``key`` (:func:`search.filter.constraints.variant_value_keys`); an option is read as
  its (attribute, value) pairs (:func:`indexer.attributes.option_pairs`: ``Color / Style`` = ``Black / T-Shirt``
  is colour black and style t-shirt);
* ``text_postings[token]`` / ``title_postings[token]`` → product rows whose text (title, tags,
  product type, Etsy materials) / title contains the token, for whole-word phrase matching;
* vendor, product type, merchant and platform → product rows;
* ``variant_index[variant_id]`` → variant indices (a variant id can in theory repeat across
  platforms; the doc id disambiguates).

Product-level facts the eligibility rules need (gift card, personalisation, merchant availability,
crawl time) are arrays too, so that ``buyable_only`` is a mask like any other constraint.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

import numpy as np

from indexer.attributes import option_attributes, option_pairs
from indexer.models import Merchant, Product
from search.filter.constraints import key_tokens, norm_label, tokens, variant_value_keys
from search.filter.csr import TokenRows
from search.filter.shipping import is_digital, merchant_ships_to

_NO_PRICE = -1


def parse_time(value: str | None) -> float:
    """ISO 8601 (or epoch seconds as text) → epoch seconds; NaN when unknown or unparseable."""
    if not value:
        return float("nan")
    try:
        return float(value)
    except ValueError:
        pass
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return float("nan")
    if dt.tzinfo is None:  # a naive time is taken as UTC, the crawler's clock
        from datetime import UTC

        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def _postings(d: Mapping[str, list[int]]) -> dict[str, np.ndarray]:
    return {k: np.asarray(sorted(set(v)), dtype=np.int64) for k, v in d.items()}


def product_text_tokens(p: Product) -> tuple[str, ...]:
    """The words a text-fallback constraint may be met by: title, tags, product type, Etsy materials."""
    materials = p.extra.get("materials") if isinstance(p.extra, dict) else None
    parts = [p.title, *p.tags, p.product_type or "", *[str(m) for m in materials or ()]]
    # A separator token between parts keeps a phrase from spanning two tags.
    out: list[str] = []
    for part in parts:
        if part:
            out.extend(tokens(part))
            out.append("\x00")
    return tuple(out)


def product_attributes(p: Product) -> set[str]:
    """The canonical attributes ``p`` has an option of (a composite option gives each of its parts'):
    what decides whether a constraint may fall back to the product's words (``prod_has_attr``)."""
    out = {a for o in p.options for a in option_attributes(o.name, o.values, o.canonical)}
    out.update(a for var in p.variants for ov in var.options for a, _ in option_pairs(ov.name, ov.value, ov.canonical))
    return out


def contains_phrase(haystack: Sequence[str], phrase: Sequence[str]) -> bool:
    """Whether ``phrase`` occurs as a contiguous token run in ``haystack``."""
    n = len(phrase)
    if n == 0:
        return False
    first = phrase[0]
    for i in range(len(haystack) - n + 1):
        if haystack[i] == first and tuple(haystack[i : i + n]) == tuple(phrase):
            return True
    return False


@dataclass
class CatalogArrays:
    """Flat variant arrays and postings over one snapshot's products (see module docstring)."""

    products: Sequence[Product]  # a tuple, or rows read lazily from a snapshot on disk
    merchants: dict[str, Merchant]
    var_start: np.ndarray  # int64 (N+1,)
    var_row: np.ndarray  # int64 (V,)
    var_price: np.ndarray  # int64 (V,), -1 = no price
    var_cur: np.ndarray  # int32 (V,), index into currencies
    currencies: list[str]
    var_available: np.ndarray  # bool (V,)
    var_quantity: np.ndarray  # int64 (V,), -1 = unknown
    # Mappings: dicts when built in memory, CSR arrays when memory-mapped (search.filter.columns)
    attr_postings: Mapping[str, Mapping[str, np.ndarray]]
    prod_has_attr: Mapping[str, np.ndarray]  # canonical -> bool (N,)
    text_postings: Mapping[str, np.ndarray]
    title_postings: Mapping[str, np.ndarray]
    text_tokens: Sequence[tuple[str, ...]]
    title_tokens: Sequence[tuple[str, ...]]
    vendor_rows: Mapping[str, np.ndarray]
    type_rows: Mapping[str, np.ndarray]
    merchant_rows: Mapping[str, np.ndarray]
    platform_rows: Mapping[str, np.ndarray]
    prod_merchant: np.ndarray  # int32 (N,), index into merchant_ids (-1 unknown)
    merchant_ids: list[str]
    prod_gift: np.ndarray  # bool (N,)
    prod_personalization: np.ndarray  # bool (N,)
    prod_digital: np.ndarray  # bool (N,): Etsy download-only listings need no shipping
    prod_variants_unknown: np.ndarray  # bool (N,): an Etsy listing with variations read at listing level
    prod_crawled: np.ndarray  # float64 (N,) epoch seconds, NaN unknown
    variant_index: Mapping[str, list[int]]

    @property
    def n_products(self) -> int:
        return len(self.products)

    @property
    def n_variants(self) -> int:
        return int(self.var_row.shape[0])

    @classmethod
    def build(
        cls, products: Sequence[Product], merchants: Mapping[str, Merchant], crawled_at: Mapping[str, str]
    ) -> CatalogArrays:
        """Flatten ``products`` (snapshot row order). Linear in the catalog; runs once per snapshot load."""
        acc = _Builder(len(products), sorted(merchants))
        for row, p in enumerate(products):
            acc.add_variants(row, p)
            acc.add_product(row, p, crawled_at)
        return acc.finish(cls, products, merchants)

    # --- small lookups -------------------------------------------------------------------------

    def variants_of(self, row: int) -> range:
        """Flat variant indices of product ``row``."""
        return range(int(self.var_start[row]), int(self.var_start[row + 1]))

    def rows_mask(self, postings: Mapping[str, np.ndarray], keys: Iterable[str]) -> np.ndarray:
        """bool (N,): products listed under any of ``keys``."""
        m = np.zeros(self.n_products, dtype=bool)
        for k in keys:
            rs = postings.get(k)
            if rs is not None:
                m[rs] = True
        return m

    def phrase_rows(self, phrase_keys: Iterable[str], *, title_only: bool = False) -> np.ndarray:
        """bool (N,): products whose text (or title) contains any of the phrases as whole words."""
        postings = self.title_postings if title_only else self.text_postings
        toks_of = self.title_tokens if title_only else self.text_tokens
        m = np.zeros(self.n_products, dtype=bool)
        phrases = [key_tokens(k) for k in phrase_keys]
        words = {p[0] for p in phrases if len(p) == 1}
        for phrase in phrases:
            if not phrase or (len(phrase) > 1 and not words.isdisjoint(phrase)):
                continue  # a word of it is a key itself: the rows holding the phrase hold that word, set below
            cand: np.ndarray | None = None
            for t in phrase:  # intersect the postings of every word, rarest first would be faster still
                rs = postings.get(t)
                if rs is None:
                    cand = None
                    break
                cand = rs if cand is None else np.intersect1d(cand, rs, assume_unique=True)
                if cand.size == 0:
                    break
            if cand is None or cand.size == 0:
                continue
            if len(phrase) == 1:
                m[cand] = True
            elif isinstance(toks_of, TokenRows):  # memory-mapped: compare token ids, decode nothing
                ids = toks_of.phrase_ids(phrase)
                if ids is not None:
                    m[cand[toks_of.rows_containing(cand, ids)]] = True
            else:
                for r in cand.tolist():
                    if contains_phrase(toks_of[r], phrase):
                        m[r] = True
        return m

    def product_has_phrase(self, row: int, phrase_keys: Iterable[str], *, title_only: bool = False) -> bool:
        """Scalar form of :meth:`phrase_rows` for one product."""
        toks = self.title_tokens[row] if title_only else self.text_tokens[row]
        return any(contains_phrase(toks, key_tokens(k)) for k in phrase_keys if key_tokens(k))

    def ships_mask(self, country: str, rows: np.ndarray | None = None) -> np.ndarray:
        """bool (N,): products whose merchant ships to ``country`` (or publishes no list), or digital ones; with
        ``rows``, bool (len(rows),) for those rows only."""
        ok = self.merchant_ships(country)
        if rows is None:
            return ok[self.prod_merchant] | self.prod_digital
        return ok[self.prod_merchant[rows]] | self.prod_digital[rows]

    def merchant_ships(self, country: str) -> np.ndarray:
        """bool (M+1,) by merchant index: ships to ``country``; the last slot (index -1, unknown) False. Cached per
        country: the merchants do not change within a snapshot, and a loop over every merchant per search would
        grow with the catalog."""
        country = country.upper()
        ok = self._ships_by_country.get(country)
        if ok is None:
            ok = np.zeros(len(self.merchant_ids) + 1, dtype=bool)
            for i, mid in enumerate(self.merchant_ids):
                ok[i] = merchant_ships_to(self.merchants[mid], country)
            self._ships_by_country[country] = ok  # one assignment: a concurrent reader sees it or recomputes it
        return ok

    @cached_property
    def _ships_by_country(self) -> dict[str, np.ndarray]:
        return {}

    @cached_property
    def merchant_ok(self) -> np.ndarray:
        """bool (M+1,) by merchant index: the merchant is available; the last slot (index -1, unknown) False."""
        ok = np.zeros(len(self.merchant_ids) + 1, dtype=bool)
        for i, mid in enumerate(self.merchant_ids):
            ok[i] = self.merchants[mid].available
        return ok

    @cached_property
    def merchant_keys(self) -> dict[str, tuple[str, ...]]:
        """Label key (:func:`search.filter.constraints.norm_label`) of a merchant id or name → merchant ids, in
        :attr:`merchants` order; built once per snapshot for the ``merchant`` filter."""
        by_key: dict[str, list[str]] = {}
        for mid, m in self.merchants.items():
            for label in (mid, m.name):
                if label:
                    by_key.setdefault(norm_label(label), []).append(mid)
        return {k: tuple(v) for k, v in by_key.items()}

    def currency_code(self, currency: str) -> int:
        """Index of ``currency`` in :attr:`currencies`, -1 when no variant uses it."""
        try:
            return self.currencies.index(currency.upper())
        except ValueError:
            return -1


def _listing() -> defaultdict[str, list[int]]:
    return defaultdict(list)


class _Builder:
    """The Python lists :meth:`CatalogArrays.build` fills in one pass, then freezes into numpy arrays."""

    def __init__(self, n: int, merchant_ids: list[str]) -> None:
        self.n = n
        self.starts = np.zeros(n + 1, dtype=np.int64)
        self.rows: list[int] = []
        self.prices: list[int] = []
        self.curs: list[int] = []
        self.avail: list[bool] = []
        self.qty: list[int] = []
        self.cur_ids: dict[str, int] = {}
        self.attr: dict[str, dict[str, list[int]]] = defaultdict(_listing)
        self.has_attr: dict[str, list[int]] = _listing()
        self.text_post, self.title_post = _listing(), _listing()
        self.text_tokens: list[tuple[str, ...]] = []
        self.title_tokens: list[tuple[str, ...]] = []
        self.vendor, self.ptype, self.merch, self.plat = _listing(), _listing(), _listing(), _listing()
        self.merchant_ids = merchant_ids
        self.m_index = {m: i for i, m in enumerate(merchant_ids)}
        self.prod_merchant = np.full(n, -1, dtype=np.int32)
        self.gift = np.zeros(n, dtype=bool)
        self.pers = np.zeros(n, dtype=bool)
        self.digital = np.zeros(n, dtype=bool)
        self.unknown = np.zeros(n, dtype=bool)
        self.crawled = np.full(n, np.nan, dtype=np.float64)
        self.variant_index: dict[str, list[int]] = _listing()
        self.v = 0

    def add_variants(self, row: int, p: Product) -> None:
        """The flat variant rows of product ``row`` and their attribute postings."""
        self.starts[row] = self.v
        for var in p.variants:
            self.rows.append(row)
            self.prices.append(var.price if var.price is not None else _NO_PRICE)
            self.curs.append(self.cur_ids.setdefault((var.currency or "").upper(), len(self.cur_ids)))
            self.avail.append(bool(var.available))
            self.qty.append(var.quantity if var.quantity is not None else -1)
            self.variant_index[var.variant_id].append(self.v)
            for ov in var.options:
                for attr, value in option_pairs(ov.name, ov.value, ov.canonical):  # a composite: one per part
                    for key in variant_value_keys(value):
                        self.attr[attr][key].append(self.v)
            self.v += 1

    def add_product(self, row: int, p: Product, crawled_at: Mapping[str, str]) -> None:
        """Product-level postings (text, vendor, type, merchant, platform) and eligibility facts of ``row``."""
        for canon in product_attributes(p):
            self.has_attr[canon].append(row)
        tt = product_text_tokens(p)
        ti = tokens(p.title)
        self.text_tokens.append(tt)
        self.title_tokens.append(ti)
        for t in set(tt):
            self.text_post[t].append(row)
        for t in set(ti):
            self.title_post[t].append(row)
        if p.vendor:
            self.vendor[norm_label(p.vendor)].append(row)
        if p.product_type:
            self.ptype[norm_label(p.product_type)].append(row)
        self.merch[p.merchant_id].append(row)
        self.plat[p.platform].append(row)
        self.prod_merchant[row] = self.m_index.get(p.merchant_id, -1)
        self.gift[row] = p.gift_card
        self.pers[row] = p.personalization_required
        self.digital[row] = is_digital(p)
        self.unknown[row] = isinstance(p.extra, dict) and p.extra.get("variants_unknown") is True
        self.crawled[row] = parse_time(crawled_at.get(p.doc_id))

    def _has_masks(self) -> dict[str, np.ndarray]:
        has = {}
        for canon, rs in self.has_attr.items():
            m = np.zeros(self.n, dtype=bool)
            m[np.asarray(rs, dtype=np.int64)] = True
            has[canon] = m
        return has

    def finish(self, cls: type[CatalogArrays], products: Sequence[Product],
               merchants: Mapping[str, Merchant]) -> CatalogArrays:
        """The frozen arrays."""
        self.starts[self.n] = self.v
        return cls(
            products=tuple(products) if isinstance(products, list) else products,  # lazy rows stay lazy
            merchants=dict(merchants), var_start=self.starts,
            var_row=np.asarray(self.rows, dtype=np.int64), var_price=np.asarray(self.prices, dtype=np.int64),
            var_cur=np.asarray(self.curs, dtype=np.int32), currencies=list(self.cur_ids),
            var_available=np.asarray(self.avail, dtype=bool), var_quantity=np.asarray(self.qty, dtype=np.int64),
            attr_postings={c: _postings(d) for c, d in self.attr.items()}, prod_has_attr=self._has_masks(),
            text_postings=_postings(self.text_post), title_postings=_postings(self.title_post),
            text_tokens=self.text_tokens, title_tokens=self.title_tokens, vendor_rows=_postings(self.vendor),
            type_rows=_postings(self.ptype), merchant_rows=_postings(self.merch),
            platform_rows=_postings(self.plat), prod_merchant=self.prod_merchant, merchant_ids=self.merchant_ids,
            prod_gift=self.gift, prod_personalization=self.pers, prod_digital=self.digital,
            prod_variants_unknown=self.unknown, prod_crawled=self.crawled, variant_index=dict(self.variant_index),
        )
