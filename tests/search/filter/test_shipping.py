"""One shipping rule: the catalog mask, the destination constraint and eligibility give the same answer."""

from __future__ import annotations

import pytest

from search.filter.catalog import CatalogArrays
from search.filter.constraints import Constraints
from search.filter.eligibility import Policy, static_reasons
from search.filter.shipping import is_digital, merchant_ships_to
from search.filter.variants import variant_unmet
from tests.search.conftest import merchant, product, variant


@pytest.mark.parametrize(("ships", "digital", "country"), [
    (("US", "CA"), False, "CA"), (("US", "CA"), False, "DE"), ((), False, "DE"), (("US",), True, "DE"),
])
def test_three_places_one_rule(ships: tuple[str, ...], digital: bool, country: str) -> None:
    m = merchant(ships_to=ships)
    p = product("Thing", [variant({})], m=m, extra={"listing_type": "download"} if digital else None)
    cat = CatalogArrays.build([p], {m.merchant_id: m}, {})
    expected = digital or merchant_ships_to(m, country)
    assert is_digital(p) == digital
    assert bool(cat.ships_mask(country)[0]) == expected
    assert ("country" not in variant_unmet(cat, 0, p.variants[0], Constraints(ship_to=country))) == expected
    reasons, _ = static_reasons(p, p.variants[0], m, country=country, quantity=1, policy=Policy())
    assert ("not_shipping_to_country" not in reasons) == expected
