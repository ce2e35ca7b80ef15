from __future__ import annotations

import pytest

from indexer import sanitise
from indexer.attributes import (
    canonical_attribute,
    currency_exponent,
    from_divisor,
    html_to_text,
    normalize_value,
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
