from __future__ import annotations

import pytest

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


def test_html_to_text_strips_scripts_and_tags() -> None:
    text = html_to_text("<p>Warm <b>wool</b> hat</p><script>alert('x')</script><style>p{}</style>&amp; more")
    assert text == "Warm wool hat & more"


def test_html_to_text_comments_stray_brackets_and_unicode_spaces() -> None:
    assert html_to_text("<!-- <p>hidden</p> -->Shown<br>text") == "Shown text"
    assert html_to_text("size a < b<br>c") == "size a < b c"  # a lone "<" is text, not a tag
    assert html_to_text("<SCRIPT type=x>1</script >A\u00a0\u2003B\n\tC") == "A B C"
    assert html_to_text("plain &eacute;t&eacute;") == "plain été"
    assert html_to_text(None) == "" and html_to_text("") == ""


def test_memoised_rules_keep_types_apart() -> None:
    # to_minor is cached by (amount, currency) with types kept apart: True is no amount, 1 is one unit.
    assert to_minor(1, "USD") == 100 and to_minor(True, "USD") is None and to_minor(1.0, "USD") == 100
    assert to_minor(["12.00"], "USD") is None and to_minor({"amount": 1}, "USD") is None  # type: ignore[arg-type]
    assert canonical_attribute("Couleur") == canonical_attribute("Couleur") == "color"
