"""Request and response models of the one engine entry point, :func:`search.engine.search`.

These pydantic models are the API edge: the CLI (``--json``), the HTTP API, the MCP tools and
``aisle eval`` all send a :class:`SearchRequest` and get a :class:`SearchResponse`, so evaluation
measures exactly what agents get. Money is integer minor units + ISO 4217 currency.

The models live by direction, and every name is importable from here (``from search.schema import X``):

* :mod:`search.schema.common`: the merchant-content notice, country and currency validation, :class:`Money`;
* :mod:`search.schema.request`: :class:`Filters`, :class:`Context`, :class:`SearchRequest`;
* :mod:`search.schema.response`: :class:`Result` and its parts, :class:`Interpreted`, :class:`SearchResponse`,
  :class:`ProductOut`;
* :mod:`search.schema.check`: the live re-check (:class:`CheckRequest`, :class:`CheckResponse`).
"""

from __future__ import annotations

from search.schema.check import CartItem, CheckedItem, CheckRequest, CheckResponse, MerchantCheckout
from search.schema.common import (
    MERCHANT_CONTENT_NOTICE,
    Money,
    country_or_error,
    iso_country,
    iso_currency,
    notice_field,
)
from search.schema.request import (
    FACET_NAMES,
    MAX_LIMIT,
    MAX_QUERY_CHARS,
    Context,
    FacetName,
    Filters,
    Mode,
    PriceFilter,
    SearchRequest,
    Sort,
)
from search.schema.response import (
    BuyInfo,
    ColorReading,
    Explanation,
    FacetValue,
    Highlight,
    Interpreted,
    ItemResponse,
    MatchInfo,
    MerchantOut,
    ProductOut,
    Result,
    SearchResponse,
    VariantOut,
)

__all__ = [
    "FACET_NAMES", "MAX_LIMIT", "MAX_QUERY_CHARS", "MERCHANT_CONTENT_NOTICE", "BuyInfo", "CartItem", "CheckRequest",
    "CheckResponse", "CheckedItem", "ColorReading", "Context", "Explanation", "FacetName", "FacetValue", "Filters",
    "Highlight", "Interpreted", "ItemResponse", "MatchInfo", "MerchantCheckout", "MerchantOut", "Mode", "Money",
    "PriceFilter", "ProductOut", "Result", "SearchRequest", "SearchResponse", "Sort", "VariantOut",
    "country_or_error", "iso_country", "iso_currency", "notice_field",
]
