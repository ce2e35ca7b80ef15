"""The attribute vocabulary."""

from __future__ import annotations

import json

from indexer.build.vocabulary import Vocabulary
from indexer.models import Option, OptionValue, Product, Variant


def _p(doc: str, vendor: str | None, ptype: str | None, variants: tuple[Variant, ...]) -> Product:
    return Product(doc_id=doc, platform="shopify", merchant_id="m", product_id=doc, title=doc, url="u",
                   variants=variants, vendor=vendor, product_type=ptype,
                   options=(Option("Colour:", "color", ()),))


def _v(vid: str, currency: str, *opts: tuple[str, str, str]) -> Variant:
    return Variant(vid, vid, 100, currency, True, tuple(OptionValue(*o) for o in opts))


def test_counts_and_normalisation() -> None:
    products = [
        _p("1", "Acme", "Shoes", (_v("a", "USD", ("Colour", "color", "Red / White"), ("Size", "size", "M")),
                                  _v("b", "USD", ("Colour", "color", "RED"), ("Size", "size", "L")))),
        _p("2", "ACME ", "shoes", (_v("c", "EUR", ("Farbe", "color", "Red"),),)),
        _p("3", None, None, (_v("d", "USD"),)),
    ]
    vocab = Vocabulary.build(products)
    assert vocab.attributes["color"] == {"red": 3, "red / white": 1, "white": 1}
    assert vocab.values("size") == {"l": 1, "m": 1}
    assert vocab.values("flavor") == {}
    assert vocab.option_names == {"colour": "color", "farbe": "color", "size": "size"}
    assert vocab.vendors == {"acme": 2}
    assert vocab.product_types == {"shoes": 2}
    assert vocab.currencies == {"USD": 2, "EUR": 1}
    again = Vocabulary.from_dict(json.loads(json.dumps(vocab.to_dict())))
    assert again == vocab


def test_real_catalog(small_catalog) -> None:
    _, products = small_catalog
    vocab = Vocabulary.build(products)
    assert vocab.vendors and vocab.currencies
    assert sum(vocab.vendors.values()) <= len(products)
    counts = list(vocab.vendors.values())
    assert counts == sorted(counts, reverse=True)
