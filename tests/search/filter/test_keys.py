"""The one value key (search.filter.keys): the parser's vocabulary, the filter and evaluation agree."""

from __future__ import annotations

import pytest

from indexer.build.vocabulary import Vocabulary
from search.engine import EngineSettings
from search.eval.gold import Hit, parse_constraints, unmet
from search.filter.constraints import match_key, norm_label
from search.filter.keys import label_key, value_key
from search.query.parse import parse_query
from search.query.vocabulary import size_key
from search.schema import SearchRequest
from tests.search.conftest import make_engine, merchant, product, variant


@pytest.mark.parametrize(("a", "b"), [("XXL", "2XL"), ("xx-large", "2xl"), ("XXXL", "3xl"), ("Size 7", "7"),
                                      ("55 Inch", '55"'), ("6-12 Months", "6-12m"), ("10' x 12'", "10x12"),
                                      ("Grey", "gray"), ("7,5", "7.5")])
def test_one_key_everywhere(a: str, b: str) -> None:
    assert value_key(a) == value_key(b)
    assert match_key(a) == match_key(b)  # the filter
    assert size_key(a) == size_key(b)  # the parser's vocabulary
    gold = parse_constraints({"size": b}, "t")
    assert unmet(Hit("d", 1.0, options=(("Size", a),)), gold) == []  # evaluation


def test_vendor_key_is_one_key() -> None:
    assert norm_label("A.P.C.") == label_key("a.p.c") == "a.p.c"
    gold = parse_constraints({"vendor": "A.P.C."}, "t")
    assert unmet(Hit("d", 1.0, vendor="a.p.c"), gold) == []


def test_brand_with_dots_is_found_by_brand() -> None:
    m = merchant()
    ps = [product("Petit Standard Tee", [variant({"Size": "M"})], m=m, vendor="A.P.C."),
          product("Plain Tee", [variant({"Size": "M"})], m=m, vendor="Other")]
    eng = make_engine(ps, [m], settings=EngineSettings(vendor_in_title=False))
    parsed = parse_query("A.P.C. tee", Vocabulary.build(ps))
    assert parsed.vendors == ("a.p.c",)
    resp = eng.search(SearchRequest(query="A.P.C. tee"))
    assert resp.interpreted.filters.vendor == ["a.p.c"]
    assert [r.title for r in resp.results if r.match.exact] == ["Petit Standard Tee"]


def test_xxl_query_meets_2xl_variant() -> None:
    m = merchant()
    ps = [product("Cotton Hoodie", [variant({"Size": "2XL"}), variant({"Size": "M"})], m=m)]
    eng = make_engine(ps, [m])
    resp = eng.search(SearchRequest(query="hoodie size XXL"))
    assert resp.results and resp.results[0].variant.options["Size"] == "2XL"
