"""Synonyms and the bilingual shopping lexicon: UK/US words and the catalogs' languages, both ways."""

from __future__ import annotations

import pytest

from search.query.synonyms import MAX_ADDED, concepts, expansions, translate_script


@pytest.mark.parametrize(("query", "expected"), [
    ("jumper", "sweater"), ("sweater", "jumper"), ("trainers", "sneakers"), ("sneakers", "trainers"),
    ("trousers", "pants"), ("torch", "flashlight"), ("nappies", "diaper"), ("dummy", "pacifier"),
    ("hoover", "vacuum cleaner"), ("pushchair", "stroller"),
])
def test_uk_us_words_are_linked(query: str, expected: str) -> None:
    assert expected in expansions(query)


@pytest.mark.parametrize(("query", "expected"), [
    ("breast pump", "extractor leche"), ("extractor de leche eléctrico", "breast pump"),
    ("cortador de relva a bateria", "lawn mower"), ("lawn mower", "cortador relva"),
    ("abri à vélos en métal", "bike shed"), ("bike shed", "abri vélo"), ("Thermosflasche", "thermos flask"),
    ("thermos flask", "thermosflasche"), ("lubrifiant intime", "lubricant"), ("gorro de lana", "beanie"),
    ("flores para un velorio", "funerales"), ("funeral flowers", "velorio"), ("ataúd", "casket"),
])
def test_cross_language_words_are_linked_both_ways(query: str, expected: str) -> None:
    assert expected in expansions(query)


def test_expansion_is_capped_and_skips_words_already_there() -> None:
    for _phrase, members in concepts("sweater jumper"):
        assert members
    got = expansions("sweater jumper")
    assert "jumper" not in got and "sweater" not in got
    assert all(len([m for m in expansions(w)]) <= MAX_ADDED * 2 for w in ("beanie", "bag", "boots"))


def test_unknown_words_expand_to_nothing() -> None:
    assert expansions("zzxq frobnicator") == []
    assert expansions("") == []


def test_japanese_words_read_in_english() -> None:
    assert translate_script("赤いビーニー") == "red beanie"
    assert translate_script("plain text") == "plain text"
    # an unknown word in another script is kept as written
    assert "日本" in translate_script("日本の手ぬぐい") and "tenugui" in translate_script("日本の手ぬぐい")


def test_a_word_of_the_query_is_not_added_again_inside_a_phrase() -> None:
    # "cortador grama" would count the query's "cortador" twice: only "grama" is added
    got = expansions("cortador de relva a bateria")
    assert "lawn mower" in got
    assert all("cortador" not in phrase.split() for phrase in got)
