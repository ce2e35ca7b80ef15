"""search.filter.domain: a selective product filter restricts the variant tests to its rows' variants, a sparse
product mask is spread by ranges; the masks and allowed rows are the one-variant rule's
(:func:`search.filter.variants.variant_unmet`) either way, on the sample catalog through the real parsers."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from indexer.models import Product
from search.filter import domain
from search.filter.catalog import CatalogArrays
from search.filter.constraints import Constraints, make_attr_constraint
from search.filter.domain import spread
from search.filter.variants import allowed_rows, rows_of, satisfying_mask, variant_unmet
from tests.search.conftest import load_catalog


@pytest.fixture(scope="module")
def cat(sample_dir: Path) -> CatalogArrays:
    products, merchants = load_catalog(sample_dir, shopify_base=lambda s: f"https://{s}.myshopify.com",
                                       etsy_api="https://openapi.etsy.com/v3/application")
    # every 7th product read without its variants (an Etsy listing without the owner's grant)
    products = [replace(p, extra={**p.extra, "variants_unknown": True}) if i % 7 == 3 else p
                for i, p in enumerate(products)]
    return CatalogArrays.build(products, {m.merchant_id: m for m in merchants}, {})


def _constraint_sets(cat: CatalogArrays) -> list[Constraints]:
    products: list[Product] = [cat.products[r] for r in range(cat.n_products)]
    colour = make_attr_constraint("color", ["red", "blue", "black"])
    size = make_attr_constraint("size", ["m", "10", "large"])
    material = make_attr_constraint("material", ["wool", "merino wool", "cotton"])
    merchants = sorted({p.merchant_id for p in products})
    one, two = (merchants[0],), tuple(merchants[1:3])
    vendor = next(p.vendor for p in products if p.vendor)
    out = [Constraints(attributes=(colour,)), Constraints(attributes=(size, material)),
           Constraints(exclude=(colour,)), Constraints(price_max=5000), Constraints(price_min=2000, currency="USD"),
           Constraints(currency="EUR", available_only=True), Constraints(available_only=True),
           Constraints(vendors=(vendor.lower(),)), Constraints(ship_to="CA", attributes=(colour,))]
    for scope in (dict(merchants=one), dict(merchants=two), dict(merchants=("nobody",)), dict(platforms=("etsy",))):
        out += [replace(c, **scope) for c in out[:7]] + [Constraints(**scope)]  # type: ignore[arg-type]
    return out + [Constraints(attributes=(colour, size), exclude=(material,), price_max=5000, available_only=True),
                  Constraints(attributes=(material,), price_min=100, ship_to="US", vendors=(vendor.lower(),))]


@pytest.mark.parametrize(("sparse", "narrow"), [(1, 0), (10**9, 10**9), (10**9, 0), (64, 8)])
def test_masks_and_rows_are_the_one_variant_rule(cat: CatalogArrays, sparse: int, narrow: int,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Restricted domains always / never / narrowed by the attributes only / the defaults."""
    monkeypatch.setattr(domain, "SPARSE", sparse)
    monkeypatch.setattr(domain, "NARROW", narrow)
    rng = np.random.default_rng(5)
    mixed = 0
    for cons in _constraint_sets(cat):
        want = np.zeros(cat.n_variants, dtype=bool)
        for row in range(cat.n_products):
            start = int(cat.var_start[row])
            for j, var in enumerate(cat.products[row].variants):
                want[start + j] = not variant_unmet(cat, row, var, cons)
        mixed += bool(want.any() and not want.all())
        got = satisfying_mask(cat, cons)
        assert got is not None and got.tolist() == want.tolist(), cons
        vmask, allowed = allowed_rows(cat, cons)
        assert allowed is not None and allowed.dtype == np.int64
        assert allowed.tolist() == rows_of(cat, want).tolist(), cons
        assert vmask is None or vmask.tolist() == want.tolist()
        extra = rng.random(cat.n_variants) < 0.7  # an eligibility mask
        vmask, allowed = allowed_rows(cat, cons, extra)
        assert vmask is not None and vmask.tolist() == (want & extra).tolist()
        assert allowed is not None and allowed.tolist() == rows_of(cat, want & extra).tolist()
    assert mixed >= 20  # the constraint sets do select (neither every variant nor none)
    assert satisfying_mask(cat, Constraints()) is None


@pytest.mark.parametrize("sparse", [1, 64, 10**9])
def test_spread_is_the_gather(cat: CatalogArrays, sparse: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(domain, "SPARSE", sparse)
    rng = np.random.default_rng(1)
    for frac in (0.0, 0.01, 0.3, 1.0):
        pm = rng.random(cat.n_products) < frac
        assert spread(cat, pm).tolist() == pm[cat.var_row].tolist()


def test_phrase_rows_skip_a_phrase_one_of_whose_words_is_a_key(cat: CatalogArrays) -> None:
    """"18ct gold" beside "gold": its rows hold "gold" anyway, so only "gold" is looked up; the same rows as the
    one-product rule (:meth:`CatalogArrays.product_has_phrase`), which reads every phrase."""
    for keys in (["merino wool", "wool"], ["wool socks", "socks", "red"], ["cotton", "organic cotton tee"],
                 ["gift card"], ["gift card", "card"], ["nothing like this", "this"]):
        for title_only in (False, True):
            want = [cat.product_has_phrase(r, keys, title_only=title_only) for r in range(cat.n_products)]
            assert cat.phrase_rows(keys, title_only=title_only).tolist() == want, (keys, title_only)
