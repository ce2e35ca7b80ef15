"""The relevance floor's compound rules: a German compound is a kind of its last part, an English one only when the
catalog does not name the compound as a kind of its own ("sweatshirt" is not a "shirt"); a one-letter word
("t-shirt") is its own head."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from search.retrieval.floor import Kind, kind_missed, kind_phrase, lexical_match, open_compound, product_terms

# The catalog's kind vocabulary (stemmed): what its product types and title last words name.
KINDS = frozenset({"shirt", "tshirt", "sweatshirt", "hoodi", "rucksack", "wanderrucksack", "extens", "chair"})


def test_a_letter_word_is_one_word_a_long_sleeve_shirt_is_not_a_tshirt() -> None:
    kind = kind_phrase("pink cropped gym t-shirt for women", synonyms=["tee", "tshirt"])
    assert kind is not None and kind.phrase == "pink cropped gym t-shirt"
    assert kind.heads[0] == "tshirt" and "tee" in kind.heads and "shirt" not in kind.heads
    assert not lexical_match(kind, product_terms("long sleeve women's horse shirt", None, ()))
    assert lexical_match(kind, product_terms("LUMINIX's - Women's Boyfriend T-shirt", None, ()))
    assert lexical_match(kind, product_terms("Unisex Jersey Short Sleeve Tee", None, ()))
    old = kind_phrase("pink cropped gym t-shirt for women", synonyms=["tee", "tshirt"], letter_words=False)
    assert old is not None and old.heads[0] == "shirt"


@pytest.mark.parametrize(("text", "heads"), [
    ("queen nefertiti t-shirt", ("tshirt", "nefertititshirt")),
    ("e-bike", ("ebik",)),
    ("x-ray", ("xray",)),
    ("rotary lawn-mower", ("mower",)),  # not a letter word: the last part, as "lawn mower" would give
    ("jura super-automatic", ("automat",)),
])
def test_only_a_one_letter_prefix_makes_the_whole_word_the_head(text: str, heads: tuple[str, ...]) -> None:
    kind = kind_phrase(text)
    assert kind is not None and kind.heads == heads


def test_an_english_sweatshirt_is_not_a_shirt_where_the_catalog_names_sweatshirts() -> None:
    kind = Kind("t-shirt", ("shirt", "tshirt"))
    hoodie = product_terms("Harry Styles Crop Hoodie | Fine Line Cropped Sweatshirt", None, ("hoodie", "sweatshirt"))
    assert lexical_match(kind, hoodie)  # the rule of compounding languages: it ends in "shirt"
    assert not lexical_match(kind, hoodie, KINDS)  # "sweatshirt" and "croppedsweatshirt" end in a longer kind word
    assert not lexical_match(kind, hoodie, False)
    assert lexical_match(kind, product_terms("Cropped Gym T-Shirt", None, ()), KINDS)  # the word itself still counts


def test_an_english_compound_the_catalog_does_not_name_still_counts() -> None:
    kind = Kind("microlink extensions", ("extens",))
    tagged = product_terms("Virgin Mongolian Kinky Curly Hair", None, ("hairextensions",))
    assert lexical_match(kind, tagged, KINDS)  # no kind word "hairextension": a hair extension is an extension
    assert not lexical_match(kind, tagged, False)


@pytest.mark.parametrize(("term", "head", "kind_of_head"), [
    ("sweatshirt", "shirt", False),
    ("croppedsweatshirt", "shirt", False),  # the longest kind word ending it is "sweatshirt"
    ("croppedsweatshirt", "sweatshirt", True),
    ("hairextens", "extens", True),
    ("wanderrucksack", "rucksack", False),  # a kind word itself: only the language rule keeps it (below)
])
def test_open_compound_looks_for_a_longer_kind_word_ending_the_term(term: str, head: str, kind_of_head: bool) -> None:
    assert open_compound(term, head, KINDS) is kind_of_head


@dataclass(frozen=True)
class _Product:
    title: str
    product_type: str | None = None
    tags: tuple[str, ...] = ()
    vendor: str | None = None


@dataclass(frozen=True)
class _Catalog:
    products: list[_Product]


def _missed(kind: Kind, products: list[_Product], lang: np.ndarray | None, compounds: str) -> set[int]:
    cat = _Catalog(products)
    vectors = np.zeros((len(products), 2), dtype=np.float32)  # no semantic rescue: the lexical rule decides
    enc = lambda _t: np.array([1.0, 0.0], dtype=np.float32)  # noqa: E731
    return kind_missed(cat, vectors, enc, kind, list(range(len(products))), {}, 0.2, KINDS, 0.5, lang, compounds)


def test_the_compound_rule_follows_each_rows_language() -> None:
    products = [_Product("Wanderrucksack 30 L"), _Product("Hooded Sweatshirt"), _Product("Damen Sweatshirt")]
    lang = np.array([4, 0, 4], dtype=np.uint8)  # de, en, de (indexer.build.analysis.LANGUAGES)
    rucksack, shirt = Kind("rucksack", ("rucksack",)), Kind("shirt", ("shirt",))
    assert _missed(rucksack, products[:1], lang[:1], "open") == set()  # German: every compound counts
    assert _missed(shirt, products[1:], lang[1:], "open") == {0}  # the English sweatshirt misses, the German passes
    assert _missed(shirt, products[1:], lang[1:], "all") == set()
    assert _missed(shirt, products[1:], lang[1:], "none") == {0}
    assert _missed(shirt, products[1:], None, "open") == {0, 1}  # no languages in the snapshot: read as English
