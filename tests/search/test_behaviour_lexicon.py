"""Issue 11, cases 3, 6 and 7 on the bundled sample catalog: colour families, typos and synonyms, other languages.

The engine runs on data/sample through the real parsers, BM25 and FAISS with a hashing encoder (no model):
cases about what is *read* use the default mode; cases about what *retrieval* finds through a correction or
a translation use ``mode="bm25"``, where the words alone decide (the hashing encoder is no language model).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.attributes import canonical_attribute
from search.engine import Engine
from search.query.colours import FAMILIES, value_families
from search.schema import SearchRequest, SearchResponse
from tests.search.conftest import load_catalog, make_engine

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"


@pytest.fixture(scope="module")
def engine() -> Engine:
    if not (SAMPLE / "shopify").is_dir():
        pytest.skip("data/sample not generated yet")
    products, merchants = load_catalog(SAMPLE, shopify_base=lambda slug: f"https://{slug}.example",
                                       etsy_api="https://api.example.test/v3/application")
    return make_engine(products, merchants)


def _search(engine: Engine, query: str, **kw: Any) -> SearchResponse:
    return engine.search(SearchRequest(query=query, limit=kw.pop("limit", 50), **kw))


def _colours(r: Any) -> list[str]:
    return [v for k, v in r.variant.options.items() if canonical_attribute(k) == "color"]


def _exact(resp: SearchResponse) -> list[Any]:
    return [r for r in resp.results if r.match.exact]


# ---------------------------------------------------------------- case 3: colour families
def test_green_beanie_meets_forest_green_and_olive(engine: Engine) -> None:
    resp = _search(engine, "green beanie")
    seen = {(r.title, c) for r in _exact(resp) for c in _colours(r)}
    assert ("Ribbed Lambswool Beanie", "Forest Green") in seen
    assert ("Moss Stitch Beanie", "Olive") in seen or ("Moss Stitch Beanie", "Sage") in seen
    echo = resp.interpreted.colors
    assert echo and echo[0].word == "green" and echo[0].family == "green"
    assert {"forest green", "olive", "sage"} <= set(echo[0].values)


def test_cobalt_is_blue(engine: Engine) -> None:
    resp = _search(engine, "blue mug")
    assert ("Glazed Breakfast Mug", "Cobalt") in {(r.title, c) for r in _exact(resp) for c in _colours(r)}
    assert resp.interpreted.colors[0].family == "blue"


def test_camel_is_a_colour(engine: Engine) -> None:
    resp = _search(engine, "camel scarf")
    assert resp.interpreted.filters.attributes.get("color")
    assert _exact(resp) and all("Camel" in _colours(r) for r in _exact(resp))


def test_an_english_colour_keeps_matching_other_languages(engine: Engine) -> None:
    # the catalog has the English "Blue" (trainers) and the German "Blau" (a thermos flask)
    resp = _search(engine, "blue thermos flask")
    exact = _exact(resp)
    assert ("Thermosflasche Edelstahl 0,75 L", "Blau") in {(r.title, c) for r in exact for c in _colours(r)}
    assert {"blue", "blau", "bleu", "azul", "cobalt"} <= set(resp.interpreted.colors[0].values)


def test_explicit_colour_filter_uses_the_family_too(engine: Engine) -> None:
    resp = engine.search(SearchRequest(query="beanie", filters={"attributes": {"color": ["green"]}}, limit=50))
    assert "Olive" in {c for r in _exact(resp) for c in _colours(r)}


@settings(max_examples=15, deadline=None)
@given(family=st.sampled_from(FAMILIES), noun=st.sampled_from(["beanie", "mug", "scarf", "", "socks"]))
def test_a_colour_family_query_never_returns_another_family(engine: Engine, family: str, noun: str) -> None:
    resp = _search(engine, f"{family} {noun}".strip(), mode="bm25")
    if not resp.interpreted.colors:
        return  # not read as a colour here ("gold beanie": a metal is a material without a colour context)
    for r in _exact(resp):
        colours = _colours(r)
        if colours:
            assert any(family in value_families(c) for c in colours), (family, r.title, colours)


# ---------------------------------------------------------------- case 6: typos and synonyms
def test_beenie_finds_beanies_in_bm25_mode(engine: Engine) -> None:
    resp = _search(engine, "beenie", mode="bm25", limit=10)
    assert resp.interpreted.corrected == {"beenie": "beanie"}
    words = ("beanie", "gorro", "mütze", "bonnet", "toque", "hat")
    assert resp.results and all(any(w in r.title.lower() for w in words) for r in resp.results[:5])


def test_hikking_bots_finds_hiking_boots(engine: Engine) -> None:
    resp = _search(engine, "hikking bots", mode="bm25", limit=5)
    assert resp.interpreted.corrected == {"hikking": "hiking", "bots": "boots"}
    assert "Hiking Boot" in resp.results[0].title


def test_words_the_catalog_has_are_not_corrected(engine: Engine) -> None:
    assert _search(engine, "merino beanie").interpreted.corrected == {}


@pytest.mark.parametrize(("query", "title"), [
    ("jumper", "Half-Zip Pullover"),  # UK → the US store's sweaters
    ("jumper", "Hand Knit Lambswool Jumper"),  # and the UK shop's own jumper
    ("sneakers", "Everyday Canvas Trainers"),  # US → the trainers
])
def test_uk_us_words_are_linked(engine: Engine, query: str, title: str) -> None:
    resp = _search(engine, query, mode="bm25", limit=20)
    assert any(title in r.title for r in resp.results), [r.title for r in resp.results]
    assert resp.interpreted.expanded


def test_an_english_query_finds_a_spanish_product_and_back(engine: Engine) -> None:
    resp = _search(engine, "breast pump", mode="bm25", limit=5)
    assert resp.results[0].title.startswith("Extractor de Leche")
    back = _search(engine, "gorro de lana", mode="bm25", limit=20)
    assert any("Beanie" in r.title for r in back.results)


def test_sizes_match_across_languages(engine: Engine) -> None:
    resp = _search(engine, "pink sandals 6-12 months")
    exact = _exact(resp)
    assert exact and exact[0].title == "Sandalias de Piel para Bebé"
    assert exact[0].variant.options == {"Color": "Rosa", "Talla": "6-12 meses"}


def test_a_brand_named_by_its_first_word_is_the_vendor(engine: Engine) -> None:
    named = _search(engine, "Bergwerk backpack under €100 shipped to Germany")
    assert named.interpreted.filters.vendor == ["bergwerk outdoor"]
    # exact results (if the relevance floor keeps any: "backpack" vs "Rucksack") are Bergwerk's only
    assert all(r.merchant.name == "Bergwerk Outdoor" for r in _exact(named))
    bm25 = _search(engine, "Bergwerk backpack", mode="bm25", limit=5)
    assert bm25.interpreted.filters.vendor == ["bergwerk outdoor"]
    assert all(r.merchant.name == "Bergwerk Outdoor" for r in _exact(bm25))


# ---------------------------------------------------------------- case 7: other languages
def test_german_colour_is_read(engine: Engine) -> None:
    resp = _search(engine, "Thermosflasche schwarz")
    assert resp.interpreted.colors[0].family == "black"
    top = _exact(resp)[0]
    assert top.title.startswith("Thermosflasche") and _colours(top) == ["Schwarz"]


def test_japanese_colour_and_product_word(engine: Engine) -> None:
    resp = _search(engine, "赤いビーニー")
    assert resp.interpreted.colors[0].family == "red"
    exact = _exact(resp)
    assert exact and all(any("red" in value_families(c) for c in _colours(r)) for r in exact)
    assert any("Beanie" in r.title for r in exact[:5])


def test_unknown_script_words_stay_in_the_text(engine: Engine) -> None:
    resp = _search(engine, "日本の手ぬぐい")
    assert "日本" in resp.interpreted.text and "tenugui" in resp.interpreted.text  # the known word is read
    assert any("日本" in n for n in resp.interpreted.notes)
