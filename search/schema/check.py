"""The live re-check of a cart: :meth:`search.engine.Engine.check` (``POST /v1/checkout/check``, MCP)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from search.schema.common import Money, iso_country, notice_field
from search.schema.response import MerchantOut


class CartItem(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    variant_id: str = Field(min_length=1, max_length=64)
    quantity: int = Field(default=1, ge=1, le=999)
    doc_id: str | None = Field(default=None, max_length=300, description="Optional; speeds the lookup.")


class CheckRequest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    items: list[CartItem] = Field(min_length=1, max_length=50)
    country: str = Field(default="US", min_length=2, max_length=60,
                         description="Buyer country: ISO 3166-1 alpha-2, or a country name.")

    _country = field_validator("country")(classmethod(lambda cls, v: iso_country(v)))


class CheckedItem(BaseModel):
    variant_id: str
    doc_id: str | None
    quantity: int
    title: str | None = None
    eligible: bool
    reasons: list[str]
    price: Money | None = Field(description="Current price read live from the merchant.")
    indexed_price: Money | None = Field(default=None, description="Price the index had.")
    price_changed: bool = False
    available: bool = False
    checked_at: str
    notes: list[str] = Field(default_factory=list, description="Informational flags (search.filter.eligibility.NOTES).")


class MerchantCheckout(BaseModel):
    merchant: MerchantOut
    platform: str
    checkout_url: str | None
    variant_ids: list[str]
    eligible: bool
    item_urls: list[str] = Field(
        default_factory=list,
        description="Per-item links in variant_ids order (Etsy has no multi-item cart link: one listing URL each).",
    )


class CheckResponse(BaseModel):
    country: str
    items: list[CheckedItem]
    checkouts: list[MerchantCheckout] = Field(description="One checkout link per merchant.")
    eligible: bool = Field(description="True when every item is eligible.")
    content_notice: str = notice_field()
