"""What a caller sends to :meth:`search.engine.Engine.search`: filters, buyer context, the search request."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from search.schema.common import iso_country, iso_currency

Mode = Literal["hybrid", "bm25", "dense"]

FacetName = Literal["color", "size", "material", "vendor", "merchant", "platform", "price", "availability"]
FACET_NAMES: tuple[str, ...] = get_args(FacetName)
Sort = Literal["relevance", "price_asc", "price_desc", "newest"]

MAX_QUERY_CHARS = 2000
MAX_LIMIT = 100


class PriceFilter(BaseModel):
    """A price range in one currency. A bound holds only in its own currency (no conversion)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    min: int | None = Field(default=None, ge=0, description="Minimum price, minor units, inclusive.")
    max: int | None = Field(default=None, ge=0, description="Maximum price, minor units, inclusive.")
    currency: str | None = Field(default=None, min_length=3, max_length=3, description="ISO 4217; None = any.")

    _currency = field_validator("currency")(classmethod(lambda cls, v: iso_currency(v)))

    def ordered(self) -> bool:
        """False when ``min`` is above ``max`` (a request with such a range is refused: ``bad_price_range``)."""
        return self.min is None or self.max is None or self.min <= self.max


def _check_range(price: PriceFilter | None, where: str) -> None:
    # At the request edge, not on PriceFilter itself: a range read from the shopper's own words is
    # the engine's to reconcile (with a note), never a validation error inside a search.
    if price is not None and not price.ordered():
        raise PydanticCustomError("bad_price_range", f"{where}: the minimum is greater than the maximum")


class Filters(BaseModel):
    """Structured constraints. Every one must hold on the *same* variant of a returned product.

    ``attributes`` maps a canonical attribute (``color``, ``size``, ``material``...) or an original
    option name (``"With Scarf"``) to one value or a list of accepted values.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    attributes: dict[str, list[str]] = Field(default_factory=dict)
    vendor: list[str] | None = None
    product_type: list[str] | None = None
    merchant: list[str] | None = Field(default=None, description="merchants by id (myshopify domain / Etsy shop id) "
                                       "or name; a value that matches none is noted in interpreted.notes")
    platform: list[Literal["shopify", "etsy"]] | None = None
    price: PriceFilter | None = None
    available_only: bool = False
    exclude: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Values no returned variant may show, per attribute ({'color': ['black']}): 'not black'. "
        "A colour also excludes its shades ('black' excludes 'Jet Black').",
    )

    @field_validator("attributes", "exclude", mode="before")
    @classmethod
    def _listify(cls, v: object) -> object:
        if isinstance(v, dict):
            return {k: ([x] if isinstance(x, str) else x) for k, x in v.items()}
        return v

    @field_validator("vendor", "product_type", "merchant", "platform", mode="before")
    @classmethod
    def _listify_one(cls, v: object) -> object:
        return [v] if isinstance(v, str) else v


class Context(BaseModel):
    """Who is buying. Preferences (sizes, budget, brands) are soft: they reorder, never filter; nothing is stored."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    country: str = Field(default="US", min_length=2, max_length=60,
                         description="Buyer country: ISO 3166-1 alpha-2, or a country name read as in a query "
                         "('Germany', 'UK').")
    currency: str | None = Field(default=None, min_length=3, max_length=3)
    sizes: list[str] = Field(default_factory=list, max_length=20,
                             description="Preferred sizes (soft: results with such a variant rank higher).")
    budget: PriceFilter | None = Field(default=None, description="Preferred price range (soft).")
    brands: list[str] = Field(default_factory=list, max_length=20, description="Preferred brands (soft).")

    _country = field_validator("country")(classmethod(lambda cls, v: iso_country(v)))
    _currency = field_validator("currency")(classmethod(lambda cls, v: iso_currency(v)))

    @model_validator(mode="after")
    def _budget_ordered(self) -> Context:
        _check_range(self.budget, "context.budget")
        return self


class SearchRequest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    query: str = Field(default="", max_length=MAX_QUERY_CHARS, description="Shopper's words, natural language.")
    filters: Filters | None = None
    context: Context = Field(default_factory=Context)
    limit: int = Field(default=10, ge=1, le=MAX_LIMIT)
    cursor: str | None = Field(default=None, max_length=200)
    mode: Mode = "hybrid"
    buyable_only: bool = False
    include_near: bool = False
    facets: list[FacetName] = Field(
        default_factory=list, max_length=len(FACET_NAMES),
        description="Facets to count over the exact matches (every page): " + ", ".join(FACET_NAMES) + ".")
    sort: Sort = Field(
        default="relevance",
        description="relevance (default); price_asc / price_desc: by the chosen variant's price within one currency "
        "(several currencies: by currency, then amount; no conversion); newest: most recently published first. "
        "Wins over 'cheapest' in the query.")
    rates: dict[str, float] | None = Field(
        default=None, max_length=200,
        description="Exchange rates for a price sort across currencies: units of one common currency per major unit "
        "of each ({'USD': 1, 'EUR': 1.08, 'GBP': 1.27}). With them price_asc/desc compare converted amounts; "
        "currencies without a rate follow. Never used to filter.")
    explain: bool = Field(default=False, description="Per result: lexical, dense and fused scores, the constraints "
                          "the chosen variant met and missed, and why that variant was chosen.")
    highlight: bool = Field(default=False, description="Per result: `_highlight` with the query's words marked "
                            "[[like this]] in the title and description (plain text, no HTML).")
    buyable_first: bool = Field(default=True, description="Within results of similar relevance (scores within "
                                "BUYABLE_BAND of the spread), buyable ones come first. See the README.")

    @field_validator("rates")
    @classmethod
    def _rates(cls, v: dict[str, float] | None) -> dict[str, float] | None:
        if v is None:
            return None
        out = {}
        for cur, rate in v.items():
            code = iso_currency(cur)
            if code is None or not rate > 0 or rate == float("inf"):
                raise PydanticCustomError("bad_currency", "rates: each key an ISO 4217 code, each rate above 0")
            out[code] = float(rate)
        return out

    @model_validator(mode="after")
    def _price_ordered(self) -> SearchRequest:
        _check_range(self.filters.price if self.filters is not None else None, "filters.price")
        return self


