"""The relevance floor: kind phrase, lexical / semantic kind match, near ordering."""

from __future__ import annotations

import numpy as np
import pytest

from search.retrieval.floor import Kind, kind_phrase, lexical_match, passes, product_terms


@pytest.mark.parametrize(("text", "head"), [
    ("Bergwerk backpack", "backpack"),
    ("warm hat", "hat"),
    ("washi tape", "tape"),
    ("gold baby sandals for a 6-12 month old", "sandal"),
    ("cortador de relva a bateria", "cortador"),
    ("abri à vélos en métal pour le jardin", "abri"),
    ("a hands-free breast pump I can wear under my top", "pump"),
])
def test_the_head_word_is_the_product_kind(text: str, head: str) -> None:
    kind = kind_phrase(text)
    assert kind is not None and kind.heads[0] == head


@pytest.mark.parametrize("text", ["", "something to weigh my coffee beans", "a gift for my dad", "under 100"])
def test_a_query_that_names_no_kind_has_no_floor(text: str) -> None:
    assert kind_phrase(text) is None


def test_synonyms_the_reader_added_count_as_heads() -> None:
    kind = kind_phrase("jumper", synonyms=["sweater"])
    assert kind is not None and set(kind.heads) == {"jumper", "sweater"}


def test_lexical_match_uses_title_type_tags_and_compounds() -> None:
    kind = kind_phrase("backpack")
    assert kind is not None
    assert lexical_match(kind, product_terms("Alpine 30L Backpacks", None, ()))
    assert lexical_match(kind, product_terms("Alpine 30L", "Backpack", ()))
    assert not lexical_match(kind, product_terms("Wool Beanie", "Hats", ("winter",)))
    rucksack = kind_phrase("rucksack")
    assert rucksack is not None and lexical_match(rucksack, product_terms("Wanderrucksack 30", None, ()))


def test_semantic_match_rescues_a_product_without_the_word_and_threshold_one_is_lexical_only() -> None:
    kind = Kind("backpack", ("backpack",))
    vectors = np.array([[1.0, 0.0], [0.0, 1.0], [0.8, 0.6]], dtype=np.float32)
    terms = {0: frozenset({"backpack"}), 1: frozenset({"beani"}), 2: frozenset({"daypack"})}
    rows = np.array([0, 1, 2])
    enc = lambda _t: np.array([1.0, 0.0], dtype=np.float32)  # noqa: E731
    assert passes(kind, rows, terms.__getitem__, vectors, enc, 0.5).tolist() == [True, False, True]
    assert passes(kind, rows, terms.__getitem__, vectors, enc, 1.0).tolist() == [True, False, False]


def test_a_compound_written_apart_or_together_is_the_same_kind() -> None:
    apart = kind_phrase("lawn mower")
    together = kind_phrase("lawnmower")
    assert apart is not None and together is not None
    assert lexical_match(apart, product_terms("Cordless Lawnmower 40V", None, ()))
    assert lexical_match(together, product_terms("Cordless Lawn Mower 40V", None, ()))
    assert lexical_match(apart, product_terms("Rotary Lawn-Mower", None, ()))
    assert not lexical_match(together, product_terms("Lawn Rake", None, ()))


def test_the_semantic_check_also_compares_the_readers_translations() -> None:
    kind = Kind("cortador de relva", ("cortador",), ("lawn mower",))
    vectors = np.array([[0.0, 1.0]], dtype=np.float32)
    enc = lambda t: np.array([0.0, 1.0] if t == "lawn mower" else [1.0, 0.0], dtype=np.float32)  # noqa: E731
    assert passes(kind, np.array([0]), lambda _r: frozenset({"mower"}), vectors, enc, 0.5).tolist() == [True]
    assert passes(Kind(kind.phrase, ("cortador",)), np.array([0]), lambda _r: frozenset(), vectors, enc,
                  0.5).tolist() == [False]


def test_with_products_named_by_the_kind_a_weak_likeness_is_not_enough() -> None:
    """A German hat at cosine 0.3 from "backpack" passes the absolute threshold, but not the named bar while the
    store's own backpacks are among the candidates; with none of them, the threshold alone decides."""
    kind = Kind("backpack", ("backpack",))
    vectors = np.array([[1.0, 0.0], [0.3, 0.954], [0.8, 0.6]], dtype=np.float32)
    terms = {0: frozenset({"backpack"}), 1: frozenset({"mutz"}), 2: frozenset({"daypack"})}
    enc = lambda _t: np.array([1.0, 0.0], dtype=np.float32)  # noqa: E731
    named = np.array([0, 1, 2])
    assert passes(kind, named, terms.__getitem__, vectors, enc, 0.2).tolist() == [True, True, True]
    assert passes(kind, named, terms.__getitem__, vectors, enc, 0.2, named_bar=0.5).tolist() == [True, False, True]
    unnamed = np.array([1, 2])
    assert passes(kind, unnamed, terms.__getitem__, vectors, enc, 0.2, named_bar=0.5).tolist() == [True, True]
