"""The catalog's attribute vocabulary, for query understanding (which words in a query are a colour,
a size, a brand...). Built from the products of one snapshot, saved as ``vocabulary.json``.

Normalisation is :mod:`indexer.attributes`'s, so that the search filter compares exactly what is
counted here: values with :func:`~indexer.attributes.normalize_value`, composite values split with
:func:`~indexer.attributes.value_parts` (``"Red / White"`` counts for ``red / white``, ``red`` and
``white``), option names with :func:`~indexer.attributes.normalize_name`; a variant option counts under the
attributes :func:`~indexer.attributes.option_pairs` gives it (``Color / Style`` = ``Black / T-Shirt``: ``black``
under ``color``, ``t-shirt`` under ``style``).

Counts: attribute values count *variants* (each part at most once per variant); vendors, product
types and currencies count *products*. Every mapping is ordered by count, then alphabetically.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from indexer.attributes import normalize_name, normalize_value, option_pairs, value_parts
from indexer.models import Product


def _ordered(counter: Counter[str]) -> dict[str, int]:
    return {k: v for k, v in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))}


@dataclass(frozen=True)
class Vocabulary:
    """Attribute values, option names, vendors, product types and currencies of a catalog, with counts."""

    attributes: dict[str, dict[str, int]] = field(default_factory=dict)  # canonical attr -> value -> variants
    option_names: dict[str, str] = field(default_factory=dict)  # normalised option name -> canonical attr
    vendors: dict[str, int] = field(default_factory=dict)  # normalised vendor -> products
    product_types: dict[str, int] = field(default_factory=dict)
    currencies: dict[str, int] = field(default_factory=dict)  # ISO 4217 -> products

    @classmethod
    def build(cls, products: Iterable[Product]) -> Vocabulary:
        """Count the vocabulary of ``products``."""
        attributes: dict[str, Counter[str]] = {}
        option_names: dict[str, str] = {}
        vendors: Counter[str] = Counter()
        types: Counter[str] = Counter()
        currencies: Counter[str] = Counter()
        for product in products:
            for option in product.options:
                name = normalize_name(option.name)
                if name:
                    option_names.setdefault(name, option.canonical)
            for variant in product.variants:
                seen: set[tuple[str, str]] = set()
                for ov in variant.options:
                    name = normalize_name(ov.name)
                    if name:
                        option_names.setdefault(name, ov.canonical)
                    for attr, value in option_pairs(ov.name, ov.value, ov.canonical):  # composite: per part
                        for part in value_parts(value):
                            if part and (attr, part) not in seen:
                                seen.add((attr, part))
                                attributes.setdefault(attr, Counter())[part] += 1
            if product.vendor and normalize_value(product.vendor):
                vendors[normalize_value(product.vendor)] += 1
            if product.product_type and normalize_value(product.product_type):
                types[normalize_value(product.product_type)] += 1
            for currency in {v.currency.upper() for v in product.variants if v.currency}:
                currencies[currency] += 1
        return cls(
            attributes={attr: _ordered(c) for attr, c in sorted(attributes.items())},
            option_names=dict(sorted(option_names.items())),
            vendors=_ordered(vendors),
            product_types=_ordered(types),
            currencies=_ordered(currencies),
        )

    def values(self, attribute: str) -> dict[str, int]:
        """Known values of a canonical attribute (empty when the catalog has none)."""
        return self.attributes.get(attribute, {})

    def to_dict(self) -> dict[str, Any]:
        return {
            "attributes": self.attributes,
            "option_names": self.option_names,
            "vendors": self.vendors,
            "product_types": self.product_types,
            "currencies": self.currencies,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Vocabulary:
        return cls(
            attributes={str(a): {str(k): int(v) for k, v in vals.items()} for a, vals in d["attributes"].items()},
            option_names={str(k): str(v) for k, v in d["option_names"].items()},
            vendors={str(k): int(v) for k, v in d["vendors"].items()},
            product_types={str(k): int(v) for k, v in d["product_types"].items()},
            currencies={str(k): int(v) for k, v in d["currencies"].items()},
        )
