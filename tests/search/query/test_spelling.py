"""Typo tolerance against the catalog's own words: never a word the catalog has, only words of 4+ letters."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from search.query.spelling import MIN_LENGTH, build_speller, speller_for
from tests.search.conftest import product, variant


def _catalog() -> list:
    return [
        product("Classic Merino Wool Beanie", [variant({"Color": "Red"})], tags=("beanie", "hat")),
        product("Ridgeline Waterproof Hiking Boots", [variant({"Size": "10"})], tags=("hiking", "boots")),
        product("Ceramic Coffee Mug", [variant({"Colour": "Cobalt"})], tags=("mug",)),
        product("Bluetooth Speaker", [variant()], tags=("speaker", "audio")),
        product("Robot Kit", [variant({"Style": "Bots"})], tags=("robot",)),
    ]


def test_typos_are_corrected_to_catalog_words() -> None:
    sp = build_speller(_catalog())
    assert sp.correct("beenie") == ("beanie", {"beenie": "beanie"})
    assert sp.correct("hikking boost")[0] == "hiking boots"
    assert sp.correct("bluetoth speakr")[1] == {"bluetoth": "bluetooth", "speakr": "speaker"}
    assert sp.correct("cermaic mug")[0] == "ceramic mug"  # a swap of neighbours is one edit


def test_words_the_catalog_has_are_never_corrected() -> None:
    sp = build_speller(_catalog())
    assert sp.correct("bots")[1] == {}  # an option value of the catalog
    assert sp.correct("robot kit") == ("robot kit", {})
    # words query understanding knows: colours, materials, synonyms, other languages' function words
    for text in ("jumper", "trainers", "pour la France", "schwarz", "under 20 quid", "extractor de leche"):
        assert sp.correct(text) == (text, {})


def test_another_form_of_a_catalog_word_is_not_a_typo() -> None:
    sp = build_speller(_catalog())
    assert sp.correct("mugs speakers")[1] == {}  # "mug", "speaker" are in the catalog: BM25 stems alike


def test_names_contractions_and_other_languages_are_left_alone() -> None:
    sp = build_speller(_catalog())
    assert sp.correct("Beenie for winter")[1] == {"Beenie": "beanie"}  # the first word may be capitalised
    assert sp.correct("mug shipped to Malaysa")[1] == {}  # a capitalised word mid-sentence is a name
    assert sp.correct("I don't want a speakr")[1] == {"speakr": "speaker"}  # a contraction is no typo
    assert sp.correct("gorro para mi hija, speakr")[1] == {}  # a Spanish query: not the catalog's English


def test_short_words_and_codes_are_left_alone() -> None:
    sp = build_speller(_catalog())
    assert sp.correct("mog") == ("mog", {})  # 3 letters: too many neighbours
    assert sp.correct("xl200 20l") == ("xl200 20l", {})
    assert sp.correct("zzzzzzzz") == ("zzzzzzzz", {})  # nothing close: left as written


def test_speller_is_cached_per_catalog() -> None:
    products = tuple(_catalog())
    assert speller_for(products) is speller_for(products)


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=40))
def test_never_raises_and_only_replaces_long_words(text: str) -> None:
    out, corrected = build_speller(_catalog()).correct(text)
    assert all(len(k) >= MIN_LENGTH for k in corrected)
    assert isinstance(out, str)


def test_a_speller_read_from_a_snapshot_knows_the_synonym_words() -> None:
    # A format-2 snapshot's speller comes from disk (Speller.from_dict), never from build_speller: the words
    # query understanding knows ("breast" of "breast pump") must stay protected from "correction" anyway.
    from search.query.spelling import Speller

    sp = Speller.from_dict({"counts": {"beast": 13, "pump": 231}, "options": []})
    assert sp.correct("hands-free breast pump") == ("hands-free breast pump", {})
