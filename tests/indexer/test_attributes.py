from __future__ import annotations

from pathlib import Path

import pytest

from indexer import sanitise
from indexer.attributes import (
    canonical_attribute,
    currency_exponent,
    from_divisor,
    html_to_text,
    normalize_value,
    option_attributes,
    option_pairs,
    to_minor,
    value_parts,
)


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("Color", "color"),
        ("Colour", "color"),
        ("Couleur", "color"),
        ("Farbe", "color"),
        ("Cor", "color"),
        ("Size", "size"),
        ("Taille", "size"),
        ("Talla", "size"),
        ("Tamanho", "size"),
        ("Größe", "size"),
        ("Select the Size:", "size"),
        ("Choose color", "color"),
        ("Lenght:", "length"),
        ("Length:", "length"),
        ("Material", "material"),
        ("With Scarf", "with scarf"),
        ("Dimensions", "size"),  # a blanket's 150x200cm
        ("Size Specification", "size"),
        ("Meses", "size"),  # a baby's 6-12M
        ("Size (ft)", "size"),  # a unit in brackets
        ("Lenght (cm)", "length"),
    ],
)
def test_canonical_attribute(name: str, canonical: str) -> None:
    assert canonical_attribute(name) == canonical


def test_value_parts_composite_matches_parts_only() -> None:
    parts = value_parts("Red / White")
    assert "red" in parts and "white" in parts and "red / white" in parts
    assert "red" not in value_parts("Redwood")
    assert "red" not in value_parts("Burgundy")


def test_normalize_value() -> None:
    assert normalize_value("  PIANO   Black ") == "piano black"
    assert normalize_value("M.") == "m"
    assert normalize_value("&quot;Large&quot;") == '"large"'


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [("7.99", "USD", 799), ("19", "GBP", 1900), ("1500", "JPY", 1500), ("1,234.50", "EUR", 123450),
     ("0.00", "USD", 0), ("abc", "USD", None), ("-1", "USD", None), (None, "USD", None), ("2.5", "KWD", 2500)],
)
def test_to_minor(amount: str | None, currency: str, minor: int | None) -> None:
    assert to_minor(amount, currency) == minor


def test_currency_exponent_and_divisor() -> None:
    assert currency_exponent("vnd") == 0
    assert currency_exponent("USD") == 2
    assert from_divisor(2500, 100, "USD") == 2500
    assert from_divisor(2500, 100, "JPY") == 25
    assert from_divisor(2500, 0, "USD") is None


def test_html_to_text_is_the_one_sanitiser() -> None:
    # The crawler's parsers import html_to_text from here; the rules and their tests are in indexer.sanitise.
    assert html_to_text is sanitise.html_to_text


def test_memoised_rules_keep_types_apart() -> None:
    # to_minor is cached by (amount, currency) with types kept apart: True is no amount, 1 is one unit.
    assert to_minor(1, "USD") == 100 and to_minor(True, "USD") is None and to_minor(1.0, "USD") == 100
    assert to_minor(["12.00"], "USD") is None and to_minor({"amount": 1}, "USD") is None  # type: ignore[arg-type]
    assert canonical_attribute("Couleur") == canonical_attribute("Couleur") == "color"


# --- composite options (issue 11): one option name joining two attributes --------------------------------------
@pytest.mark.parametrize(
    ("name", "value", "pairs"),
    [
        ("Color / Style", "Black / T-Shirt", (("color", "Black"), ("style", "T-Shirt"))),  # the Etsy listing's
        ("Colour/Size", "Navy/XL", (("color", "Navy"), ("size", "XL"))),  # no spaces
        ("Frame Colour / Size", "Oak / A4", (("color", "Oak"), ("size", "A4"))),  # "frame colour" is a colour
        ("Size & Colour", "M &amp; Red", (("size", "M"), ("color", "Red"))),  # merchant HTML entities
        ("Size - Colour", "6-12 months - Pink", (("size", "6-12 months"), ("color", "Pink"))),  # spaced hyphen
        ("Color / Colour", "Red / Red", (("color", "Red"),)),  # one attribute twice: one pair
        # kept as today: the value does not split into as many parts as the name
        ("Color / Style", "Black", (("style", "Black"),)),
        ("Color / Size", "Red / White / M", (("size", "Red / White / M"),)),
        ("Color / Style", "Black / ", (("style", "Black / "),)),
        ("Group/Version", "2 White", (("group/version", "2 White"),)),  # Shopify: no known attribute, no split
        # kept as today: some part of the name names no known attribute
        ("Number of Group Heads/Style", "2 Groups / Tall", (("number of group heads/style", "2 Groups / Tall"),)),
        ("Length - Density", "24 - 150", (("length - density", "24 - 150"),)),
        ("Material/Fabric", "Cotton/Linen", (("material", "Cotton/Linen"),)),  # one known name, not two
        ("Color", "Red / White", (("color", "Red / White"),)),  # a plain option: a composite *value*, one pair
        ("T-Shirt Size", "M - Large", (("size", "M - Large"),)),  # a hyphen inside a word joins nothing
    ],
)
def test_option_pairs(name: str, value: str, pairs: tuple[tuple[str, str], ...]) -> None:
    assert option_pairs(name, value) == pairs


def test_option_pairs_keep_the_stored_attribute_of_a_plain_option() -> None:
    assert option_pairs("Colour", "Red", "color") == (("color", "Red"),)
    assert option_pairs("Shade", "Red", "legacy") == (("legacy", "Red"),)  # what the crawler stored is kept
    assert option_pairs("Color / Style", "Black / T-Shirt", "style") == (("color", "Black"), ("style", "T-Shirt"))


def test_option_attributes_of_a_product_option() -> None:
    assert option_attributes("Color / Style", ["Black / T-Shirt", "White / Hoodie"]) == {"color", "style"}
    assert option_attributes("Color / Style", ["Black"]) == {"style"}
    assert option_attributes("Size", []) == {"size"}


def test_the_real_etsy_listing_splits(shared_dir: Path) -> None:
    """kalima-arts 1347546861 (the dev query q252's product) through the real parser."""
    import json

    from indexer.crawl.parse import etsy_merchant, etsy_product

    shop = shared_dir / "catalogs" / "etsy" / "kalima-arts"
    if not (shop / "inventory" / "1347546861.json").is_file():
        pytest.skip("shared catalogs absent")
    m = etsy_merchant(json.loads((shop / "shop.json").read_text("utf-8")), "https://openapi.etsy.com/v3/application")
    listing = next(x for x in json.loads((shop / "listings.json").read_text("utf-8"))["results"]
                   if x["listing_id"] == 1347546861)
    p = etsy_product(listing, json.loads((shop / "inventory" / "1347546861.json").read_text("utf-8")), m)
    var = next(v for v in p.variants if {o.value for o in v.options} == {"M", "Black / T-Shirt"})
    comp = next(o for o in var.options if o.name == "Color / Style")
    assert comp.canonical == "style"  # the crawler stores the merchant's option as before
    assert option_pairs(comp.name, comp.value, comp.canonical) == (("color", "Black"), ("style", "T-Shirt"))
