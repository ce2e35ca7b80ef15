"""search.filter.variants.rows_of / rows_have_variant: the linear forms used at 1M products, against plain loops."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from search.filter.variants import rows_have_variant, rows_of


class _Cat:
    """Just the arrays the two functions read (CatalogArrays layout: variants contiguous per row)."""

    def __init__(self, counts: list[int]) -> None:
        self.var_start = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self.var_row = np.repeat(np.arange(len(counts)), counts).astype(np.int64)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 4), min_size=1, max_size=40), st.data())
def test_against_loops(counts: list[int], data: st.DataObject) -> None:
    cat = _Cat(counts)
    v = int(cat.var_start[-1])
    vmask = np.array(data.draw(st.lists(st.booleans(), min_size=v, max_size=v)), dtype=bool)
    also = np.array(data.draw(st.lists(st.booleans(), min_size=v, max_size=v)), dtype=bool)
    want_rows = sorted({int(cat.var_row[i]) for i in range(v) if vmask[i]})
    got = rows_of(cat, vmask)  # type: ignore[arg-type]
    assert got.dtype == np.int64 and got.tolist() == want_rows
    rows = np.array(data.draw(st.lists(st.integers(0, len(counts) - 1), max_size=15)), dtype=np.int64)
    for vm in (None, vmask):
        for al in (None, also):
            want = [any((vm is None or vm[i]) and (al is None or al[i])
                        for i in range(int(cat.var_start[r]), int(cat.var_start[r + 1]))) for r in rows.tolist()]
            assert rows_have_variant(cat, rows, vm, al).tolist() == want  # type: ignore[arg-type]


def test_allowed_rows_product_level_fast_path_matches_the_variant_mask() -> None:
    from indexer.models import Merchant, Product, Variant
    from search.filter.catalog import CatalogArrays
    from search.filter.constraints import Constraints
    from search.filter.variants import allowed_rows, satisfying_mask

    merchants = {m: Merchant(m, "shopify", m, f"https://{m}", "USD") for m in ("a", "b", "c")}
    products = []
    for i in range(30):
        m = "abc"[i % 3]
        variants = tuple(Variant(f"{i}-{j}", "t", 100 * j + 1, "USD", bool(j % 2)) for j in range(i % 4))
        products.append(Product(f"shopify:{m}:{i}", "shopify", m, str(i), f"p{i}", f"https://{m}/{i}", variants))
    cat = CatalogArrays.build(products, merchants, {})
    for cons in (Constraints(merchants=("a",)), Constraints(merchants=("a", "c"), platforms=("shopify",)),
                 Constraints(merchants=("zzz",))):
        vmask, allowed = allowed_rows(cat, cons)
        assert vmask is None  # product-level only: no per-variant pass
        want = rows_of(cat, satisfying_mask(cat, cons))  # products without variants never qualify
        assert allowed is not None and allowed.tolist() == want.tolist()
    cons = Constraints(merchants=("b",), available_only=True)
    vmask, allowed = allowed_rows(cat, cons)
    assert vmask is not None and allowed is not None
    assert allowed.tolist() == rows_of(cat, satisfying_mask(cat, cons)).tolist()
    assert allowed_rows(cat, Constraints()) == (None, None)
