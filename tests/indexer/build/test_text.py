"""The product-text recipe."""

from __future__ import annotations

from indexer.build.text import (
    DESCRIPTION_CHARS,
    MAX_OPTION_VALUES,
    MAX_TAGS,
    lexical_text,
    product_text,
    text_hash,
    truncate_words,
)
from indexer.models import Option, OptionValue, Product, Variant


def _product(**kw) -> Product:
    base = dict(
        doc_id="shopify:s.myshopify.com:1", platform="shopify", merchant_id="s.myshopify.com", product_id="1",
        title="Trail Runner 2", url="https://s.example/products/trail",
        variants=(Variant("11", "S / Red", 4999, "USD", True,
                          (OptionValue("Size", "size", "S"), OptionValue("Colour", "color", "Red")), sku="TR-200-S"),
                  Variant("12", "M / Red", 4999, "USD", True,
                          (OptionValue("Size", "size", "M"), OptionValue("Colour", "color", "Red")), sku="TR-200-M")),
        vendor="Acme", product_type="Running Shoes", tags=("running", "Running", "_hidden", "app::x", "trail_shoe"),
        body_text="Light shoes for muddy trails. " * 30,
        options=(Option("Size", "size", ("S", "M")), Option("Colour", "color", ("Red",))),
    )
    base.update(kw)
    return Product(**base)  # type: ignore[arg-type]


def test_recipe_order_and_fields() -> None:
    text = product_text(_product())
    assert text.startswith("Trail Runner 2. Brand: Acme. Type: Running Shoes. Tags: running, trail shoe. ")
    assert "Size: S, M; Colour: Red" in text
    assert "_hidden" not in text and "app::x" not in text
    assert text.index("Colour: Red") < text.index("Light shoes")


def test_description_truncated_at_word_boundary() -> None:
    p = _product()
    text = product_text(p)
    description = text[text.index("Light shoes"):]
    assert len(description) <= DESCRIPTION_CHARS
    assert p.body_text.startswith(description)
    assert description.endswith("trails.") or description.split()[-1] in p.body_text.split()


def test_truncate_words() -> None:
    assert truncate_words("short", 300) == "short"
    assert truncate_words("alpha beta gamma delta", 13) == "alpha beta"
    assert truncate_words("x" * 50, 10) == "x" * 10  # one huge word is simply cut
    assert truncate_words("  a \n b  ", 10) == "a b"


def test_caps_on_tags_and_option_values() -> None:
    p = _product(tags=tuple(f"tag{i}" for i in range(60)),
                 options=(Option("Size", "size", tuple(str(i) for i in range(100))),))
    text = product_text(p)
    assert f"tag{MAX_TAGS - 1}. " in text and f"tag{MAX_TAGS}" not in text
    assert f", {MAX_OPTION_VALUES - 1}. " in text and f", {MAX_OPTION_VALUES}," not in text


def test_minimal_product_and_materials() -> None:
    p = _product(vendor=None, product_type=None, tags=(), options=(), body_text="",
                 extra={"materials": ["Copper", " "]})
    assert product_text(p) == "Trail Runner 2. Materials: Copper"


def test_lexical_text_adds_skus_not_dense() -> None:
    p = _product()
    assert "TR-200-S" not in product_text(p)
    assert lexical_text(p).endswith("SKU: TR-200-S TR-200-M")
    assert lexical_text(_product(variants=(Variant("1", "", 1, "USD", True),))) == product_text(_product())


def test_hash_is_sha256_of_text() -> None:
    assert text_hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert text_hash(product_text(_product())) == text_hash(product_text(_product()))
    assert text_hash(product_text(_product(title="Other"))) != text_hash(product_text(_product()))


def test_real_products_have_sensible_text(small_catalog) -> None:
    _, products = small_catalog
    for p in products:
        text = product_text(p)
        assert text.startswith(p.title.strip()[:20])
        assert len(text) < 2500
