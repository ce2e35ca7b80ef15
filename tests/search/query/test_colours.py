"""Colour families: a shade meets its family in every language; composites meet each family they name."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from search.query.colours import (
    FAMILIES,
    colour_values,
    value_families,
    widen_colours,
    word_family,
)

CATALOG = {
    "forest green": 3, "olive": 2, "sage": 1, "mint": 1, "oliv": 1, "verde oliva": 1, "waldgrün": 1,
    "cobalt": 2, "navy": 4, "blau": 2, "bleu": 1, "bleu marine": 1, "blue": 5, "azul": 1, "royal": 1, "sky": 1,
    "camel": 1, "tan": 1, "beige": 2, "jet": 1, "onyx": 1, "black": 9, "schwarz": 1, "negro": 1, "preto": 1,
    "noir": 1, "negru": 1, "burgundy": 1, "crimson": 1, "red": 6, "rosa": 2, "rose": 1, "pink": 2,
    "dorado": 1, "dourado": 1, "doré": 1, "gold": 3, "black/white": 1, "red / white": 1, "heather grey": 2,
    "dot grid": 1, "set of 3": 1, "dunkelblau": 1, "matte black": 1, "charcoal": 1,
}


@pytest.mark.parametrize(("value", "families"), [
    ("Forest Green", {"green"}), ("Olive", {"green"}), ("Sage", {"green"}), ("Mint", {"green"}),
    ("Cobalt", {"blue"}), ("Navy", {"blue"}), ("Royal", {"blue"}), ("Sky", {"blue"}),
    ("camel", {"brown", "beige"}), ("tan", {"brown", "beige"}), ("beige", {"beige"}),
    ("Jet", {"black"}), ("Onyx", {"black"}), ("Burgundy", {"red"}), ("Crimson", {"red"}),
    ("Black/White", {"black", "white"}), ("Red / White", {"red", "white"}), ("Heather Grey", {"grey"}),
    ("Blau", {"blue"}), ("Bleu", {"blue"}), ("Azul", {"blue"}), ("rosa", {"pink"}), ("rose", {"pink"}),
    ("Dorado", {"gold"}), ("Dourado", {"gold"}), ("Doré", {"gold"}), ("Negro", {"black"}), ("Preto", {"black"}),
    ("Noir", {"black"}), ("Schwarz", {"black"}), ("Negru", {"black"}), ("Dunkelblau", {"blue"}),
    ("Waldgrün", {"green"}), ("verde-oliva", {"green"}), ("Glacier Blue", {"blue"}), ("Matte Black", {"black"}),
    ("赤", {"red"}), ("Dot Grid", set()), ("Set of 3", set()),
])
def test_value_families(value: str, families: set[str]) -> None:
    assert set(value_families(value)) == families


def test_a_family_word_meets_every_shade_in_every_language() -> None:
    green = colour_values("green", CATALOG)
    assert {"forest green", "olive", "sage", "mint", "oliv", "verde oliva", "waldgrün"} <= green
    blue = colour_values("blue", CATALOG)
    assert {"cobalt", "navy", "blau", "bleu", "bleu marine", "blue", "azul", "royal", "sky", "dunkelblau"} <= blue
    # the English value in the catalog does not stop the other languages from matching
    assert "blue" in CATALOG and {"blau", "bleu"} <= blue
    assert not blue & {"black", "red", "olive", "dot grid"}


def test_translations_of_a_family_word_read_as_the_family() -> None:
    assert colour_values("Blau", CATALOG) == colour_values("blue", CATALOG)
    assert colour_values("negro", CATALOG) == colour_values("black", CATALOG)
    assert {"dorado", "dourado", "doré", "gold"} <= colour_values("gold", CATALOG)
    assert {"rosa", "rose", "pink"} <= colour_values("pink", CATALOG)


def test_a_shade_word_meets_its_shade_not_the_whole_family() -> None:
    assert colour_values("olive", CATALOG) == {"olive", "oliv", "verde oliva"}
    assert "navy" in colour_values("navy", CATALOG) and "cobalt" not in colour_values("navy", CATALOG)
    assert colour_values("camel", CATALOG) == {"camel"}


def test_composites_meet_each_family_they_name() -> None:
    assert "black/white" in colour_values("black", CATALOG) and "black/white" in colour_values("white", CATALOG)
    assert "red / white" in colour_values("red", CATALOG)


def test_word_family_echo() -> None:
    r = word_family("green")
    assert (r.shade, r.family, r.whole_family) == ("green", "green", True)
    r = word_family("Cobalt")
    assert (r.family, r.whole_family) == ("blue", False)
    assert word_family("camel").family == "brown"
    assert word_family("zzz").family is None


def test_unknown_word_matches_only_itself() -> None:
    assert colour_values("zzz", {"zzz": 1, "red": 1}) == {"zzz"}
    assert colour_values("zzz", CATALOG) == set()


def test_widen_colours_echoes_family_and_values() -> None:
    values, echo = widen_colours(["green"], ["green"], CATALOG)
    assert values[0] == "green" and "forest green" in values
    assert echo[0].family == "green" and "olive" in echo[0].values
    _, none = widen_colours(["zzz"], ["zzz"], CATALOG)
    assert none == []


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(FAMILIES), st.sampled_from(sorted(CATALOG)))
def test_a_family_never_accepts_a_value_of_another_family_only(family: str, value: str) -> None:
    if value in colour_values(family, CATALOG):
        assert family in value_families(value)
