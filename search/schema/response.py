"""What :meth:`search.engine.Engine.search` and ``get_product`` answer: results, the reading echoed, products."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from search.schema.common import Money, notice_field
from search.schema.request import Filters


class VariantOut(BaseModel):
    id: str
    title: str
    options: dict[str, str]
    price: Money | None
    available: bool
    sku: str | None = None


class BuyInfo(BaseModel):
    eligible: bool
    reasons: list[str] = Field(description="Reason codes why not eligible (see search.filter.eligibility.REASONS).")
    checkout_url: str | None
    checked_at: str = Field(description="ISO 8601 time the availability/price was last read from the merchant.")
    notes: list[str] = Field(
        default_factory=list,
        description="Informational flags that never block a purchase (see search.filter.eligibility.NOTES).",
    )


class MerchantOut(BaseModel):
    id: str
    name: str


class MatchInfo(BaseModel):
    exact: bool
    unmet: list[str] = Field(default_factory=list)


class Explanation(BaseModel):
    """Why a result is where it is and why its variant was chosen (``explain=true``)."""

    lexical: float | None = Field(description="BM25 score of the product for the ranking words (None: no words).")
    dense: float | None = Field(description="Cosine of the product's vector and the query's (None: no words).")
    fused: float = Field(description="The retrieval score the ranking started from (the mode's own score: fused "
                         "z-scores in hybrid, BM25 in bm25, cosine in dense; browse order without words).")
    score: float = Field(description="The result's final score (after buyer preferences).")
    met: list[str] = Field(default_factory=list, description="Constraints the chosen variant meets.")
    unmet: list[str] = Field(default_factory=list, description="Constraints it misses (near matches only).")
    variant_reason: str = Field(description="Why this variant of the product was chosen.")
    order: list[str] = Field(default_factory=list, description="What moved the result from its relevance place: "
                             "sort, buyable_first, preferences.")


class Highlight(BaseModel):
    """The title and description with the query's words marked ``[[word]]`` (plain text, safe to show)."""

    title: str
    description: str


class Result(BaseModel):
    model_config = ConfigDict(serialize_by_alias=True, validate_by_name=True, validate_by_alias=True)

    doc_id: str
    title: str
    platform: str
    merchant: MerchantOut
    url: str
    score: float
    variant: VariantOut
    buy: BuyInfo
    match: MatchInfo = Field(default_factory=lambda: MatchInfo(exact=True))
    vendor: str | None = None
    product_type: str | None = None
    image: str | None = None
    explain: Explanation | None = Field(default=None, description="With explain=true: scores, constraints, "
                                        "the choice of variant.")
    highlight: Highlight | None = Field(default=None, alias="_highlight",
                                        description="With highlight=true: the query's words marked [[like this]].")


class FacetValue(BaseModel):
    """One value of a facet and how many exact matches (products) a filter on it returns."""

    value: str = Field(description="The value to filter on (a price bucket reads like '0-25 USD').")
    count: int = Field(description="Exact matches (products, every page) that a filter on this value returns.")
    label: str | None = Field(default=None, description="A display name (a merchant's name) when it differs.")
    min: int | None = Field(default=None, description="Price bucket: lowest price, minor units, inclusive.")
    max: int | None = Field(default=None, description="Price bucket: highest price, minor units, inclusive.")
    currency: str | None = Field(default=None, description="Price bucket: ISO 4217 currency.")


class ColorReading(BaseModel):
    """One colour word of a request as read: the family it belongs to and the catalog values it accepted."""

    word: str
    family: str = Field(description="The colour family (or, for a shade word such as 'olive', the shade's family).")
    values: list[str] = Field(default_factory=list, description="Catalog colour values accepted for the word.")


class Interpreted(BaseModel):
    text: str = Field(description="What remained of the query for semantic/lexical matching.")
    filters: Filters = Field(
        description="The constraints applied: parsed from the query, overridden by explicit filters."
    )
    country: str
    country_source: Literal["query", "context"] = Field(
        default="context",
        description="query: the shopper named the destination, and every result ships there (or its merchant "
        "publishes no ship-to list); context: the buyer country only decides eligibility.",
    )
    sort: Literal["price_asc", "price_desc", "newest"] | None = Field(
        default=None, description="The order applied instead of relevance: the request's sort, else price_asc when "
        "'cheapest' was asked (exact results ordered by price, lowest first).")
    preferences: dict[str, list[str]] = Field(
        default_factory=dict,
        description="The buyer's soft preferences from the request context (sizes, budget, brands) that reordered "
        "the results; never filters, never stored.",
    )
    notes: list[str] = Field(
        default_factory=list,
        description="What was read loosely or not at all: an approximate price band, an unreadable price, an "
        "unknown colour, an unsupported script. The unread words stay in the text.",
    )
    corrected: dict[str, str] = Field(
        default_factory=dict,
        description="Typos corrected against the catalog's own words ({'beenie': 'beanie'}); retrieval used the "
        "corrected words. A word the catalog has is never corrected.",
    )
    colors: list[ColorReading] = Field(
        default_factory=list,
        description="Each colour word read (from the query or a colour filter): its family and the catalog values it "
        "accepted ('green' → Forest Green, Olive, Sage...).",
    )
    expanded: list[str] = Field(
        default_factory=list,
        description="Synonyms and translations added to the ranking words (jumper → sweater, breast pump → "
        "extractor de leche); never filters.",
    )
    languages: list[str] = Field(
        default_factory=list,
        description="The languages the ranking words were read in for word matching: the catalog language they "
        "point to first ('pt' for 'cortador de relva a bateria'), then English, always read ('en' alone for an "
        "English query). Empty when no words rank the results (a filter alone on merchant, price or stock).",
    )


class ItemResponse(BaseModel):
    """One item of a message naming several ('a red beanie and a navy scarf'), answered with its own constraints."""

    query: str = Field(description="The part of the message this item answers.")
    interpreted: Interpreted
    results: list[Result]


class SearchResponse(BaseModel):
    query: str
    interpreted: Interpreted
    results: list[Result]
    items: list[ItemResponse] = Field(
        default_factory=list,
        description="When the message names several items, one answer per item (results above: the items' results "
        "interleaved).",
    )
    facets: dict[str, list[FacetValue]] = Field(
        default_factory=dict, description="The requested facets: per name, values with the number of exact matches "
        "a filter on the value returns (most first).")
    next_cursor: str | None = None
    snapshot: str | None = Field(default=None, description="Index snapshot version that answered.")
    took_ms: float = 0.0
    partial: bool = Field(default=False, description="True when some index shards did not answer (a sharded "
                          "index, `aisle serve --ray`): the results come from the others only.")
    missing_shards: list[int] = Field(default_factory=list, description="The shards that did not answer.")
    content_notice: str = notice_field()


class ProductOut(BaseModel):
    """A product with all variants, each with eligibility for the buyer country."""

    doc_id: str
    title: str
    platform: str
    merchant: MerchantOut
    url: str
    vendor: str | None = None
    product_type: str | None = None
    description: str = Field(default="", description="Merchant content, plain text (HTML stripped).")
    tags: list[str] = Field(default_factory=list)
    options: dict[str, list[str]] = Field(default_factory=dict)
    images: list[str] = Field(default_factory=list)
    variants: list[VariantOut]
    buy: list[BuyInfo] = Field(description="Eligibility per variant, same order as variants.")
    content_notice: str = notice_field()


