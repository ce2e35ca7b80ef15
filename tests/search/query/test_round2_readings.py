"""Readings fixed in the second ranking round: foreign prepositions before a destination, metals that the
catalog also sells as a colour, and catalog words the typo corrector must keep."""

from __future__ import annotations

import pytest

from indexer.build.vocabulary import Vocabulary
from search.query.parse import parse_query
from search.query.spelling import build_speller
from tests.search.conftest import product, variant


@pytest.mark.parametrize(("query", "country"), [
    ("sac à dos pour la France", "FR"),
    ("livraison vers l'Allemagne", "DE"),
    ("mochila para el Perú", "PE"),
    ("mochila para o Brasil", "BR"),
    ("bolsa para a França", "FR"),
    ("Rucksack in die Schweiz", "CH"),
    ("shipped to the UK", "GB"),
])
def test_a_destination_after_a_foreign_preposition_and_article(query: str, country: str) -> None:
    assert parse_query(query).country == country


@pytest.mark.parametrize("query", ["pour over coffee kettle", "a canada goose jacket", "made in France scarf",
                                   "fabriqué pour la France"])
def test_no_destination_without_one(query: str) -> None:
    assert parse_query(query).country is None


def _vocab(options: list[dict[str, str]]) -> Vocabulary:
    return Vocabulary.build([product(f"p{i}", [variant(o)]) for i, o in enumerate(options)])


def test_a_metal_the_catalog_also_sells_as_a_colour_is_no_hard_material_filter() -> None:
    both = _vocab([{"Color": "Dorado"}, {"Material": "Gold"}])  # jewellery in gold, sandals in colour Dorado
    p = parse_query("gold baby sandals", both)
    assert "material" not in p.attributes and "gold" in p.text  # evidence for ranking, not a filter
    only_material = _vocab([{"Material": "Gold"}])
    assert parse_query("gold ring", only_material).attributes.get("material", ())[:1] == ("gold",)


def test_a_catalog_word_is_never_corrected_even_next_to_a_close_common_word() -> None:
    sp = build_speller([product("Kimono Washi Tape", [variant()], tags=("washi", "tape")),
                        product("Wash Bag", [variant()], tags=("wash",)),
                        product("Dish Wash Liquid", [variant()], tags=("wash",))])
    assert sp.correct("washi tape") == ("washi tape", {})
    assert sp.correct("wahsi tape")[1] == {"wahsi": "washi"}
