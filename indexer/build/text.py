"""The product-text recipe: the one place that decides what words represent a product.

Relevance depends on it, so it is written down here and versioned (:data:`TEXT_RECIPE_VERSION`,
recorded in every snapshot manifest; changing the recipe changes the text hashes, so the embedding
cache never serves a vector made from an older recipe).

Dense text (:func:`product_text`), in this order so that the words that matter most come first
and survive the model's token limit (all-MiniLM-L6-v2 reads 256 word pieces, about 1,000 characters):

1. the title;
2. ``Brand: <vendor>`` (Etsy products carry the shop name as vendor);
3. ``Type: <product type>``;
4. ``Tags: <tags>``: at most :data:`MAX_TAGS` tags, de-duplicated case-insensitively, internal
   tags (starting with ``_`` or containing ``::``, a Shopify app habit) dropped, ``_`` read as a space;
5. ``Materials: <materials>`` (Etsy listings);
6. option names with their values, ``Color: Red, Blue; Size: S, M``, at most :data:`MAX_OPTION_VALUES`
   values per option (a product with 60 sizes would otherwise drown the rest);
7. the plain-text description truncated to :data:`DESCRIPTION_CHARS` characters at a word boundary
   (the evaluation reference used the first 300 characters; on the dev queries BM25 nDCG@10 over
   the 11k shared products was 0.783 at 300 characters, 0.767 at 600 and 0.779 at 1,000: longer text
   mostly adds shipping and care boilerplate, and embedding time grows with it).

Lexical text (:func:`lexical_text`) is the dense text plus the variants' SKUs, so that a shopper or an
agent can find a product by its SKU; SKUs are noise for a sentence embedding, so they stay out of it.
"""

from __future__ import annotations

import hashlib
import re

from indexer.models import Product

TEXT_RECIPE_VERSION = "1"
DESCRIPTION_CHARS = 300
MAX_TAGS = 20
MAX_OPTION_VALUES = 20
MAX_SKUS = 50

_SPACE = re.compile(r"\s+")


def _clean(s: str | None) -> str:
    return _SPACE.sub(" ", s or "").strip()


def truncate_words(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, at the last word boundary when there is one."""
    text = _clean(text)
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    # A boundary in the last third keeps the cut sensible; a single huge "word" (a URL) is just cut.
    return (cut[:space] if space > limit * 2 // 3 else cut).rstrip(" ,;:-")


def _tags(tags: tuple[str, ...]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for tag in tags:
        t = _clean(tag)
        if not t or t.startswith("_") or "::" in t:
            continue
        t = _clean(t.replace("_", " "))
        key = t.lower()
        if key in seen:
            continue
        seen.add(key)
        out.append(t)
        if len(out) >= MAX_TAGS:
            break
    return out


def _join(parts: list[str]) -> str:
    """Sentences joined with '. ' unless a part already ends with punctuation."""
    out = ""
    for p in parts:
        if not p:
            continue
        if out:
            out += " " if out[-1] in ".!?" else ". "
        out += p
    return out


def product_text(product: Product) -> str:
    """The text embedded for ``product`` (see the module docstring for the recipe)."""
    parts = [_clean(product.title)]
    if product.vendor:
        parts.append(f"Brand: {_clean(product.vendor)}")
    if product.product_type:
        parts.append(f"Type: {_clean(product.product_type)}")
    tags = _tags(product.tags)
    if tags:
        parts.append("Tags: " + ", ".join(tags))
    materials = [_clean(str(m)) for m in product.extra.get("materials") or () if _clean(str(m))]
    if materials:
        parts.append("Materials: " + ", ".join(materials[:MAX_TAGS]))
    options = []
    for opt in product.options:
        values = [_clean(v) for v in opt.values if _clean(v)][:MAX_OPTION_VALUES]
        if values:
            options.append(f"{_clean(opt.name)}: {', '.join(values)}")
    if options:
        parts.append("; ".join(options))
    description = truncate_words(product.body_text, DESCRIPTION_CHARS)
    if description:
        parts.append(description)
    return _join(parts)


def lexical_text(product: Product) -> str:
    """The text indexed by BM25: :func:`product_text` plus the variants' distinct SKUs."""
    skus = list(dict.fromkeys(_clean(v.sku) for v in product.variants if v.sku and _clean(v.sku)))[:MAX_SKUS]
    text = product_text(product)
    return f"{text} SKU: {' '.join(skus)}" if skus else text


def text_hash(text: str) -> str:
    """sha256 hex of the UTF-8 text: the embedding cache key (with the model)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
