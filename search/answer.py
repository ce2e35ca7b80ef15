"""Domain records → response models, and the opaque pagination cursor.

Merchant text leaves as plain text: titles, vendor, merchant names, option names and values go
through the one sanitiser, :func:`indexer.sanitise.plain_text` (``plain`` here): tags removed, entities
decoded, invisible characters dropped, so a title like ``<b>Red</b> &amp; Blue`` is served as ``Red & Blue``.

Cursor: ``base64url(JSON {"o": offset, "h": request hash, "v": snapshot version})``. The hash covers
the whole request except ``cursor`` and ``limit`` (a caller may change the page size between
pages); a cursor from another request or from another snapshot version is refused with
:class:`~indexer.errors.QueryError` code ``bad_cursor`` (the ranking it pointed into is gone: start
again without a cursor).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any

from indexer.errors import QueryError
from indexer.models import Merchant, Product, Variant
from indexer.sanitise import plain_text as plain
from search.filter.eligibility import Eligibility
from search.schema import (
    BuyInfo,
    MatchInfo,
    MerchantOut,
    Money,
    ProductOut,
    Result,
    SearchRequest,
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
        url=p.url,
        score=float(score),
        variant=variant_out(v),
        buy=buy_out(e),
        match=MatchInfo(exact=exact, unmet=list(unmet or [])),
        vendor=plain(p.vendor) or None,
        product_type=plain(p.product_type) or None,
        image=p.images[0] if p.images else None,
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
        url=p.url,
        vendor=plain(p.vendor) or None,
        product_type=plain(p.product_type) or None,
        description=plain(p.body_text or p.body_html),
        tags=[plain(t) for t in p.tags],
        options=options,
        images=list(p.images),
        variants=[variant_out(v) for v in p.variants],
        buy=[buy_out(e) for e in eligibility],
    )


# --- cursor ---------------------------------------------------------------------------------------


def request_hash(request: SearchRequest) -> str:
    """Stable hash of everything in ``request`` that shapes the ranking (not ``cursor`` nor ``limit``)."""
    body = request.model_dump(mode="json", exclude={"cursor", "limit"})
    raw = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:16]


def encode_cursor(offset: int, request: SearchRequest, version: str) -> str:
    payload = json.dumps({"o": offset, "h": request_hash(request), "v": version}, separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode("utf-8")).decode("ascii").rstrip("=")


def decode_cursor(cursor: str | None, request: SearchRequest, version: str) -> int:
    """Offset encoded in ``cursor`` (0 without one); QueryError ``bad_cursor`` when it does not fit."""
    if not cursor:
        return 0
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data: Any = json.loads(raw.decode("utf-8"))
        offset = data["o"]
        ok = isinstance(offset, int) and not isinstance(offset, bool) and offset >= 0
    except (binascii.Error, ValueError, UnicodeDecodeError, KeyError, TypeError):
        raise QueryError("the cursor is not one this engine issued", code="bad_cursor") from None
    if not ok or not isinstance(data, dict):
        raise QueryError("the cursor is not one this engine issued", code="bad_cursor")
    if data.get("h") != request_hash(request):
        raise QueryError("the cursor belongs to a different request; repeat the request without a cursor",
                         code="bad_cursor")
    if data.get("v") != version:
        raise QueryError("the index changed since this cursor was issued; repeat the request without a cursor",
                         code="bad_cursor")
    return int(offset)
