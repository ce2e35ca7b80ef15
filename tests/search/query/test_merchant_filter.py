"""``filters.merchant`` takes a merchant's id or its name (the one label normalisation,
search/filter/keys.py, as for vendors), and says so in ``interpreted.notes`` when a value matches no
merchant (issue 16)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from search.engine import Engine
from search.schema import Filters, SearchRequest
from tests.search.conftest import make_engine, merchant, product, variant


@pytest.fixture(scope="module")
def engine() -> Engine:
    knits = replace(merchant("northfield-knits.myshopify.com"), name="Northfield Knits")
    pottery = replace(merchant("thames-pottery.myshopify.com"), name="Thames Pottery & Co.")
    etsy = replace(merchant("98546074", platform="etsy"), name="WildThread Studio")
    ps = [product("Wool Beanie", [variant({"Color": "Red"})], m=knits),
          product("Wool Mug Cosy", [variant({"Color": "Red"})], m=pottery),
          product("Wool Scarf", [variant({"Color": "Red"})], m=etsy)]
    return make_engine(ps, [knits, pottery, etsy])


def _ask(engine: Engine, *merchants: str):  # noqa: ANN202
    return engine.search(SearchRequest(query="wool", filters=Filters(merchant=list(merchants)), limit=10))


@pytest.mark.parametrize(("value", "mid"), [
    ("northfield-knits.myshopify.com", "northfield-knits.myshopify.com"),  # the id, as before
    ("Northfield Knits", "northfield-knits.myshopify.com"),
    ("northfield knits", "northfield-knits.myshopify.com"),
    ("  NORTHFIELD   KNITS ", "northfield-knits.myshopify.com"),
    ("Thames Pottery & Co.", "thames-pottery.myshopify.com"),
    ("wildthread studio", "98546074"),
    ("98546074", "98546074"),
])
def test_merchant_by_id_or_name(engine: Engine, value: str, mid: str) -> None:
    resp = _ask(engine, value)
    assert resp.results and {r.merchant.id for r in resp.results} == {mid}
    assert resp.interpreted.filters.merchant == [mid]  # echoed as the id it resolved to
    assert not resp.interpreted.notes


def test_unknown_merchant_is_noted_not_silently_empty(engine: Engine) -> None:
    resp = _ask(engine, "Nowhere Shop")
    assert not resp.results
    assert any("Nowhere Shop" in n and "no merchant" in n for n in resp.interpreted.notes)


def test_known_and_unknown_together(engine: Engine) -> None:
    resp = _ask(engine, "Northfield Knits", "Nowhere Shop")
    assert {r.merchant.id for r in resp.results} == {"northfield-knits.myshopify.com"}
    assert any("Nowhere Shop" in n for n in resp.interpreted.notes)
