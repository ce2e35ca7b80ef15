"""Constraints: the merged, normalised reading of a request's filters, and the value-matching rules.

Matching rules (the attribute-exact filter, :mod:`search.filter.variants`, applies them):

* **Equality after normalisation.** Both a constraint value and a variant's option value go through
  :func:`match_key`, which is :func:`search.filter.keys.value_key`, the one value key the parser, the
  vocabulary and evaluation use too (units unified, a leading "size" dropped, XXL = 2XL...).

* **Composite values.** A variant value such as ``"Red / White"`` is split into parts
  (:func:`indexer.attributes.value_parts`); a constraint matches when it equals the whole value or
  one part. A *constraint* value is never split: ``red`` never matches ``burgundy``, ``redwood`` or
  ``red wine``.

* **Attribute keys.** A filter key is a canonical attribute (``color``, ``size``...) or an original
  option name (``"With Scarf"``, ``"Ring size"``); both resolve through
  :func:`indexer.attributes.canonical_attribute`. A key that resolves to no attribute present in the
  index is rejected with :class:`~indexer.errors.QueryError` (code ``unknown_filter``).

* **Text fallback.** When a product has *no option* of the constrained attribute, the constraint may
  be met by the product's own words (title, tags, product type, Etsy materials) containing the value
  as a whole-word phrase: a single-variant "Sony ... Headphones White" is white, "Merino Wool
  Beanie" is wool. For size-like attributes (size, length, width, quantity) the fallback only applies
  to values carrying a number (``55 inch``, ``15ml``): a bare ``M`` or ``L`` in a title is not a size.
  A product that *has* the option must meet the constraint on the variant.

* **Price** holds only in its own currency (no conversion); a variant without a price never meets a
  price bound.
* **Vendor**: normalised equality with the product's vendor, or the brand as a whole-word phrase in
  the title (multi-brand stores list "Sony WH-1000XM5" under their own name).
* **Product type**: normalised equality with the product type.
* **Exclusions** (``exclude``, "a scarf, not black"): an attribute constraint inverted; its keys are the
  excluded values and, for a colour, every catalog value of that colour's shades
  (:mod:`search.query.exclusions`), so "black" also excludes "Jet Black".
* **Destination** (``ship_to``, set when the shopper names where the order goes): the merchant's
  ship-to list includes the country, or the merchant publishes none (unknown is not excluded), or
  the listing is a digital download.
"""

from __future__ import annotations

from dataclasses import dataclass

from indexer.attributes import canonical_attribute
from search.filter.keys import SYNONYMS, key_tokens, label_key, text_tokens, value_key, value_keys

__all__ = ["SYNONYMS", "SIZE_LIKE", "AttrConstraint", "Constraints", "key_tokens", "make_attr_constraint",
           "match_key", "norm_label", "tokens", "variant_value_keys"]

# Attributes whose text fallback needs a number in the value (a bare "M" in a title is no size).
SIZE_LIKE = frozenset({"size", "length", "width", "quantity", "height", "depth"})

# The one normalisation lives in search.filter.keys; these names are the filter's vocabulary for it.
match_key = value_key
variant_value_keys = value_keys
tokens = text_tokens


@dataclass(frozen=True, slots=True)
class AttrConstraint:
    """One attribute constraint: the variant's ``canonical`` option must take one of ``keys``."""

    label: str  # the filter key as given, echoed in ``unmet``
    canonical: str
    keys: frozenset[str]
    text_fallback_keys: frozenset[str]  # the keys the product text may meet (see module docstring)


@dataclass(frozen=True, slots=True)
class Constraints:
    """Everything a returned (product, variant) must satisfy, already normalised."""

    attributes: tuple[AttrConstraint, ...] = ()
    vendors: tuple[str, ...] = ()  # normalised
    product_types: tuple[str, ...] = ()  # normalised
    merchants: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    price_min: int | None = None
    price_max: int | None = None
    currency: str | None = None
    available_only: bool = False
    vendor_in_title: bool = True  # a vendor may also be met by the brand as a phrase in the title
    ship_to: str | None = None  # a destination the shopper named: the merchant must ship there
    exclude: tuple[AttrConstraint, ...] = ()  # values no returned variant may show ("not black")

    @property
    def has_variant_constraints(self) -> bool:
        return bool(self.attributes) or bool(self.exclude) or self.has_price or self.available_only

    @property
    def has_price(self) -> bool:
        return self.price_min is not None or self.price_max is not None or self.currency is not None

    @property
    def empty(self) -> bool:
        return not (
            self.has_variant_constraints or self.vendors or self.product_types or self.merchants or self.platforms
            or self.ship_to
        )


def resolve_attribute_key(key: str) -> str:
    """A filter key (canonical attribute or original option name) → canonical attribute."""
    return canonical_attribute(key)


def make_attr_constraint(
    label: str, values: list[str] | tuple[str, ...], *, fallback_attrs: frozenset[str] | None = None
) -> AttrConstraint:
    """Build one attribute constraint from a filter key and its accepted values.

    ``fallback_attrs``: the canonical attributes the text fallback may serve (None = every one).
    """
    canonical = resolve_attribute_key(label)
    keys = frozenset(k for k in (match_key(v) for v in values) if k)
    if fallback_attrs is not None and canonical not in fallback_attrs:
        fallback: frozenset[str] = frozenset()
    elif canonical in SIZE_LIKE:
        fallback = frozenset(k for k in keys if any(ch.isdigit() for ch in k) and len(k) >= 2)
    else:
        fallback = frozenset(k for k in keys if len(k) >= 3 or (len(k) >= 2 and not k.isascii()))
    return AttrConstraint(label=label, canonical=canonical, keys=keys, text_fallback_keys=fallback)


def norm_label(text: str) -> str:
    """Normalised form of a vendor / product type for equality (:func:`search.filter.keys.label_key`)."""
    return label_key(text)
