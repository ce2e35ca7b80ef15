"""The compiled vocabulary's lexicon parts: vendor first-word aliases and sizes across languages."""

from __future__ import annotations

from indexer.build.vocabulary import Vocabulary
from search.query.parse import parse_query
from search.query.sizes import _month_keys
from search.query.vocabulary import compile_vocabulary, size_key
from tests.search.conftest import product, variant


def _vocab(*vendors: str, sizes: tuple[str, ...] = ()) -> Vocabulary:
    products = [product(f"Thing {i}", [variant({"Size": s}) for s in sizes] or [variant()], vendor=v)
                for i, v in enumerate(vendors)]
    return Vocabulary.build(products)


def test_a_multi_word_vendor_is_named_by_its_first_word() -> None:
    cv = compile_vocabulary(_vocab("Bergwerk Outdoor", "Black Diamond", "North Face", "North Sails", "Stanley",
                                   "Stanley 1913", "Tala Co"))
    assert cv.vendors.match(["bergwerk"], 0) == [(1, "bergwerk outdoor")]
    assert cv.vendors.match(["black"], 0) == []  # a colour word is no alias
    assert cv.vendors.match(["north"], 0) == []  # it starts two vendors: not distinctive
    assert cv.vendors.match(["tala"], 0) == []  # under 5 letters
    assert [p for _, p in cv.vendors.match(["stanley"], 0)] == ["stanley"]  # a vendor itself wins


def test_a_capitalised_first_word_is_a_vendor_requirement() -> None:
    p = parse_query("Bergwerk backpack", _vocab("Bergwerk Outdoor", "Acme"))
    assert p.vendors == ("bergwerk outdoor",)


def test_months_match_across_languages() -> None:
    keys = set(_month_keys(size_key("6-12 months")))
    assert {size_key(v) for v in ("6-12-meses", "6-12 meses", "6-12 mois", "6-12 M", "6-12 Monate")} <= keys
    assert _month_keys("xl") == ["xl"]
    assert size_key("XL") == size_key("Extra Large") == size_key("x-large")


def test_parsed_months_take_the_catalogs_spelling() -> None:
    vocab = _vocab("Acme", sizes=("0-6 meses", "6-12 meses"))
    assert set(parse_query("sandals 6-12 months", vocab).attributes["size"]) == {"6-12 meses"}
    assert set(parse_query("sandales 6-12 mois", vocab).attributes["size"]) == {"6-12 meses"}


def test_an_age_after_for_a_is_the_wearers_size() -> None:
    vocab = _vocab("Acme", sizes=("6-12 meses", "40 oz"))
    assert set(parse_query("gold sandals for a 6-12 month old", vocab).attributes["size"]) >= {"6-12 meses"}
    assert "size" not in parse_query("boot for my 40 oz quencher", vocab).attributes  # another item's size
