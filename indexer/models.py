"""Typed, frozen domain records shared by every stage (crawl → store → index → search).

Conventions
-----------
* Money is always an integer amount of **minor units** plus an ISO 4217 currency
  (``price=4999, currency="USD"`` is $49.99). Zero-decimal currencies (JPY, CLP, VND...)
  are stored with exponent 0, see :func:`indexer.attributes.currency_exponent`.
* ``doc_id`` is ``{platform}:{merchant_id}:{product_id}`` where ``merchant_id`` is the
  ``myshopify_domain`` (Shopify) or the ``shop_id`` as text (Etsy). It is stable across crawls
  and is the id evaluation qrels use.
* Option names are kept as the merchant wrote them; ``canonical`` is the canonical attribute
  (``color``, ``size``, ``material``, or a normalised name), see :mod:`indexer.attributes`.
* Records convert to and from plain JSON-able dicts (``to_dict`` / ``from_dict``) so that
  snapshots are JSON, never pickle.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Platform = Literal["shopify", "etsy"]


@dataclass(frozen=True, slots=True)
class Merchant:
    """A Shopify store or an Etsy shop."""

    merchant_id: str  # myshopify_domain (Shopify) or str(shop_id) (Etsy)
    platform: Platform
    name: str
    base_url: str  # Shopify: the store URL; Etsy: the API base (.../v3/application)
    currency: str
    country: str | None = None
    ships_to: tuple[str, ...] = ()  # ISO 3166-1 alpha-2; empty = unknown
    available: bool = True  # False: Etsy shop on vacation, store disabled
    shop_url: str | None = None  # public URL of the shop front

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["ships_to"] = list(self.ships_to)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Merchant:
        return cls(**{**d, "ships_to": tuple(d.get("ships_to") or ())})


@dataclass(frozen=True, slots=True)
class OptionValue:
    """One option of one variant: ``name`` as the merchant wrote it, ``canonical`` attribute."""

    name: str
    canonical: str
    value: str


@dataclass(frozen=True, slots=True)
class Option:
    """A product-level option definition (e.g. Size with values S, M, L)."""

    name: str
    canonical: str
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Variant:
    """One purchasable variant. ``price`` is minor units (None when the source had no usable price)."""

    variant_id: str
    title: str
    price: int | None
    currency: str
    available: bool
    options: tuple[OptionValue, ...] = ()
    sku: str | None = None
    compare_at: int | None = None
    quantity: int | None = None  # Etsy offerings have a quantity; Shopify storefront JSON does not
    position: int = 0

    def option_map(self) -> dict[str, str]:
        """``{original option name: value}``."""
        return {o.name: o.value for o in self.options}

    def to_dict(self) -> dict[str, Any]:
        # written out, not dataclasses.asdict: the same dict (keys in field order) without its deep copies, the
        # largest cost of writing a snapshot's rows (a million products have ~2.6 million variants)
        return {"variant_id": self.variant_id, "title": self.title, "price": self.price, "currency": self.currency,
                "available": self.available,
                "options": [{"name": o.name, "canonical": o.canonical, "value": o.value} for o in self.options],
                "sku": self.sku, "compare_at": self.compare_at, "quantity": self.quantity, "position": self.position}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Variant:
        return cls(**{**d, "options": tuple(OptionValue(**o) for o in d.get("options") or ())})


@dataclass(frozen=True, slots=True)
class Product:
    """A product (Shopify) or listing (Etsy) with all its variants."""

    doc_id: str
    platform: Platform
    merchant_id: str
    product_id: str
    title: str
    url: str  # public product page
    variants: tuple[Variant, ...]
    handle: str | None = None
    vendor: str | None = None
    product_type: str | None = None
    tags: tuple[str, ...] = ()
    body_html: str = ""
    body_text: str = ""
    options: tuple[Option, ...] = ()
    images: tuple[str, ...] = ()
    gift_card: bool = False
    personalization_required: bool = False
    updated_at: str | None = None  # source timestamp, ISO 8601
    extra: dict[str, Any] = field(default_factory=dict)  # platform facts (e.g. Etsy state, listing_type)

    def to_dict(self) -> dict[str, Any]:
        return {
            "doc_id": self.doc_id,
            "platform": self.platform,
            "merchant_id": self.merchant_id,
            "product_id": self.product_id,
            "title": self.title,
            "url": self.url,
            "variants": [v.to_dict() for v in self.variants],
            "handle": self.handle,
            "vendor": self.vendor,
            "product_type": self.product_type,
            "tags": list(self.tags),
            "body_html": self.body_html,
            "body_text": self.body_text,
            "options": [{"name": o.name, "canonical": o.canonical, "values": list(o.values)} for o in self.options],
            "images": list(self.images),
            "gift_card": self.gift_card,
            "personalization_required": self.personalization_required,
            "updated_at": self.updated_at,
            "extra": dict(self.extra),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Product:
        return cls(
            doc_id=d["doc_id"],
            platform=d["platform"],
            merchant_id=d["merchant_id"],
            product_id=d["product_id"],
            title=d["title"],
            url=d["url"],
            variants=tuple(Variant.from_dict(v) for v in d.get("variants") or ()),
            handle=d.get("handle"),
            vendor=d.get("vendor"),
            product_type=d.get("product_type"),
            tags=tuple(d.get("tags") or ()),
            body_html=d.get("body_html") or "",
            body_text=d.get("body_text") or "",
            options=tuple(
                Option(o["name"], o["canonical"], tuple(o.get("values") or ())) for o in d.get("options") or ()
            ),
            images=tuple(d.get("images") or ()),
            gift_card=bool(d.get("gift_card")),
            personalization_required=bool(d.get("personalization_required")),
            updated_at=d.get("updated_at"),
            extra=dict(d.get("extra") or {}),
        )


@dataclass(frozen=True, slots=True)
class Quarantined:
    """A source record that could not be turned into a :class:`Product` (kept with its reason)."""

    merchant_id: str
    record_id: str | None
    reason: str
    raw: str  # the source JSON text


def make_doc_id(platform: str, merchant_id: str, product_id: str | int) -> str:
    """The stable document id: ``{platform}:{merchant_id}:{product_id}``."""
    return f"{platform}:{merchant_id}:{product_id}"
