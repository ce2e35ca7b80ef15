"""Constraints: the merged, normalised reading of a request's filters, and the value-matching rules.

Matching rules (the attribute-exact filter, :mod:`search.filter.variants`, applies them):

* **Equality after normalisation.** Both a constraint value and a variant's option value go through
  :func:`match_key`: :func:`indexer.attributes.normalize_value` (NFKC, case, spacing, outer
  punctuation), then

  - units written next to a number are unified (``55 Inch``, ``55"``, ``55in`` → ``55in``;
    ``40-ounce``, ``40 oz`` → ``40oz``; ``15 ml`` → ``15ml``; likewise cm, mm, m, kg, g, lb, l);
  - a leading attribute word is dropped (``Size 7``, ``size-7``, ``Talla M`` → ``7``, ``m``);
  - a small synonym table maps each synonym to one representative (grey/gray, M/medium,
    S/small, L/large, XL/extra large/x-large, XS, XXL/2XL, XXXL/3XL, one size/OS).

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
* **Destination** (``ship_to``, set when the shopper names where the order goes): the merchant's
  ship-to list includes the country, or the merchant publishes none (unknown is not excluded), or
  the listing is a digital download.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from indexer.attributes import canonical_attribute, normalize_name, normalize_value, value_parts

# Synonym classes; the first word is the representative every member maps to.
_SYNONYM_CLASSES: tuple[tuple[str, ...], ...] = (
    ("gray", "grey"),
    ("xxs", "2xs", "xx-small", "xx small", "extra extra small"),
    ("xs", "x-small", "x small", "extra small", "extra-small"),
    ("s", "small", "sm"),
    ("m", "medium", "med", "md"),
    ("l", "large", "lg"),
    ("xl", "x-large", "x large", "extra large", "extra-large", "1xl"),
    ("xxl", "2xl", "xx-large", "xx large", "extra extra large", "2x"),
    ("xxxl", "3xl", "xxx-large", "xxx large", "3x"),
    ("one size", "os", "onesize", "one-size", "one size fits all", "osfa", "taille unique", "talla única"),
)
SYNONYMS: dict[str, str] = {w: cls[0] for cls in _SYNONYM_CLASSES for w in cls}

# Attributes whose text fallback needs a number in the value (a bare "M" in a title is no size).
SIZE_LIKE = frozenset({"size", "length", "width", "quantity", "height", "depth"})

_UNITS: tuple[tuple[str, str], ...] = (
    (r"(?:inches|inch|in|\"|”|″|'')", "in"),
    (r"(?:fl\.?\s*oz|ounces|ounce|oz)", "oz"),
    (r"(?:millilitres|milliliters|millilitre|milliliter|ml)", "ml"),
    (r"(?:centimetres|centimeters|centimetre|centimeter|cm)", "cm"),
    (r"(?:millimetres|millimeters|millimetre|millimeter|mm)", "mm"),
    (r"(?:kilograms|kilogram|kgs|kg)", "kg"),
    (r"(?:grams|gram|gr|g)", "g"),
    (r"(?:pounds|pound|lbs|lb)", "lb"),
    (r"(?:litres|liters|litre|liter|ltr|l)", "l"),
    (r"(?:feet|foot|ft|')", "ft"),
)
_NUM = r"(\d+(?:[.,]\d+)?)"
_UNIT_RES = [
    (re.compile(_NUM + r"\s*-?\s*" + pat + r"(?=$|[^\w])", re.IGNORECASE), unit) for pat, unit in _UNITS
]
_LEADING_ATTR = re.compile(
    r"^(?:ring size|shoe size|us size|size|sizes|talla|taille|tamanho|tamaño|größe|grösse|maat|taglia|"
    r"colou?r|cor|couleur)\s*[-:_]?\s*(?=\S)"
)
_TOKEN = re.compile(r"\w+", re.UNICODE)
_DIGIT = re.compile(r"\d")
_DIM_NUM = re.compile(r"\d+(?:[.,]\d+)?")
_DIM = r"\d+(?:[.,]\d+)?\s*[a-z]{0,2}"
_DIMS = re.compile(rf"^{_DIM}\s*[x×*]\s*{_DIM}(?:\s*[x×*]\s*{_DIM})?$")


def _unify_units(v: str) -> str:
    if not _DIGIT.search(v):  # most text has no number: skip the ten unit patterns
        return v
    for rx, unit in _UNIT_RES:
        v = rx.sub(lambda m, u=unit: m.group(1).replace(",", ".") + u, v)  # type: ignore[misc]
    return v


@lru_cache(maxsize=65536)
def match_key(value: str) -> str:
    """The equality key of one value (see the module docstring): normalised, units unified, synonyms mapped."""
    v = _unify_units(normalize_value(value))
    stripped = _LEADING_ATTR.sub("", v)
    if stripped and stripped != v:
        v = normalize_value(stripped)
    dims = _DIMS.match(v)
    if dims:  # "10' x 12'", "10ft x 12ft", "10x12" → "10x12": dimensions compare without their units
        v = "x".join(n.replace(",", ".") for n in _DIM_NUM.findall(v))
    return SYNONYMS.get(v, v)


@lru_cache(maxsize=65536)
def variant_value_keys(value: str) -> frozenset[str]:
    """Every key a variant value answers to: the whole value and each part of a composite."""
    return frozenset(match_key(p) for p in value_parts(value) if p)


@lru_cache(maxsize=131072)
def tokens(text: str) -> tuple[str, ...]:
    """Word tokens of free text: units unified (``55"`` → ``55in``), lower case, one-word synonyms mapped."""
    return tuple(SYNONYMS.get(t, t) for t in _TOKEN.findall(_unify_units(normalize_value(text))))


def key_tokens(key: str) -> tuple[str, ...]:
    """Tokens of a match key, for whole-word phrase matching in product text (same mapping as :func:`tokens`)."""
    return tuple(SYNONYMS.get(t, t) for t in _TOKEN.findall(key))


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

    @property
    def has_variant_constraints(self) -> bool:
        return bool(self.attributes) or self.has_price or self.available_only

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
    """Normalised form of a vendor / product type / name for equality."""
    return normalize_name(text)
