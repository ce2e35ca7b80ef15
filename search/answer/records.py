"""Domain records → response models.

Merchant text leaves as plain text: titles, vendor, merchant names, option names and values go
through the one sanitiser, :func:`indexer.sanitise.plain_text` (``plain`` here): tags removed, entities
decoded, invisible characters dropped, so a title like ``<b>Red</b> &amp; Blue`` is served as ``Red & Blue``.
"""

from __future__ import annotations

from urllib.parse import quote

from indexer.models import Merchant, Product, Variant
from indexer.sanitise import plain_text as plain
from indexer.urls import merchant_url
from search.filter.eligibility import ETSY_LISTING, Eligibility
from search.schema import (
    BuyInfo,
    MatchInfo,
    MerchantOut,
    Money,
    ProductOut,
    Result,
    VariantOut,
)


def variant_out(v: Variant) -> VariantOut:
    price = Money(amount=v.price, currency=v.currency) if v.price is not None and len(v.currency or "") == 3 else None
    return VariantOut(
        id=v.variant_id,
        title=plain(v.title),
        options={plain(o.name): plain(o.value) for o in v.options},
        price=price,
        available=bool(v.available),
        sku=plain(v.sku) or None,
    )


def buy_out(e: Eligibility) -> BuyInfo:
    return BuyInfo(
        eligible=e.eligible,
        reasons=list(e.reasons),
        checkout_url=e.checkout_url,
        checked_at=e.checked_at,
        notes=list(e.notes),
    )


def product_url(p: Product, m: Merchant | None) -> str:
    """``p.url`` when the URL policy keeps it, else the link aisle builds from what it verified."""
    base = m.base_url if m is not None else ""
    kept = merchant_url(p.url, base, p.platform)
    if kept is not None:
        return kept
    if p.platform == "etsy":
        return ETSY_LISTING + quote(p.product_id, safe="")
    return f"{base}/products/{quote(p.handle, safe='')}" if base and p.handle else base


def images_out(p: Product, m: Merchant | None, most: int | None = None) -> list[str]:
    """The product's images the URL policy keeps (see the module docstring), at most ``most`` of them."""
    base = m.base_url if m is not None else ""
    kept: list[str] = []
    for x in p.images:
        if most is not None and len(kept) >= most:
            break
        u = merchant_url(x, base, p.platform)
        if u is not None:
            kept.append(u)
    return kept


def merchant_out(p: Product, m: Merchant | None) -> MerchantOut:
    return MerchantOut(id=p.merchant_id, name=plain(m.name) if m is not None else p.merchant_id)


def result_out(
    p: Product,
    v: Variant,
    m: Merchant | None,
    e: Eligibility,
    *,
    score: float,
    exact: bool = True,
    unmet: list[str] | None = None,
) -> Result:
    return Result(
        doc_id=p.doc_id,
        title=plain(p.title),
        platform=p.platform,
        merchant=merchant_out(p, m),
        url=product_url(p, m),
        score=float(score),
        variant=variant_out(v),
        buy=buy_out(e),
        match=MatchInfo(exact=exact, unmet=list(unmet or [])),
        vendor=plain(p.vendor) or None,
        product_type=plain(p.product_type) or None,
        image=next(iter(images_out(p, m, 1)), None),
    )


def product_out(p: Product, m: Merchant | None, eligibility: list[Eligibility]) -> ProductOut:
    options: dict[str, list[str]] = {}
    for o in p.options:
        options[plain(o.name)] = [plain(x) for x in o.values]
    return ProductOut(
        doc_id=p.doc_id,
        title=plain(p.title),
        platform=p.platform,
        merchant=merchant_out(p, m),
        url=product_url(p, m),
        vendor=plain(p.vendor) or None,
        product_type=plain(p.product_type) or None,
        description=plain(p.body_text or p.body_html),
        tags=[plain(t) for t in p.tags],
        options=options,
        images=images_out(p, m),
        variants=[variant_out(v) for v in p.variants],
        buy=[buy_out(e) for e in eligibility],
    )
