"""The two shipping rules, written once: "is it a digital download" and "does the merchant ship there".

The catalog arrays (:meth:`search.filter.catalog.CatalogArrays.ships_mask`), the destination constraint
(:func:`search.filter.variants.variant_unmet`) and eligibility (:mod:`search.filter.eligibility`) all ask
these two functions, so the rules cannot drift apart.
"""

from __future__ import annotations

from indexer.models import Merchant, Product


def is_digital(product: Product) -> bool:
    """An Etsy download-only listing: nothing is shipped, so no ship-to rule applies."""
    return isinstance(product.extra, dict) and product.extra.get("listing_type") == "download"


def merchant_ships_to(merchant: Merchant, country: str) -> bool:
    """The merchant ships to ``country`` (ISO alpha-2), or publishes no ship-to list (unknown is not excluded)."""
    return not merchant.ships_to or country.upper() in merchant.ships_to
