"""Domain records → response models, and the opaque pagination cursor.

Merchant text leaves as plain text: titles, vendor, merchant names, option names and values go
through the one sanitiser, :func:`indexer.sanitise.plain_text` (``plain`` here): tags removed, entities
decoded, invisible characters dropped, so a title like ``<b>Red</b> &amp; Blue`` is served as ``Red & Blue``.

Cursor: ``base64url(JSON {"o": offset, "h": request hash, "v": snapshot version}) "." base64url(MAC)``,
where MAC is HMAC-SHA256 (first 16 bytes) of the payload under the workspace's cursor key
(:func:`cursor_key`: 32 random bytes in ``<home>/cursor.key``, file mode 0600, made on first use and
shared by every worker of the workspace; an engine without a workspace uses a per-process key). A
cursor whose MAC does not verify (a forged or edited offset) is refused with
:class:`~indexer.errors.QueryError` code ``bad_cursor``, and so is one from another request (the hash
covers the whole request except ``cursor`` and ``limit``: a caller may change the page size between
pages) or from another snapshot version (the ranking it pointed into is gone: start again without a
cursor).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

from indexer.errors import QueryError
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


# --- cursor ---------------------------------------------------------------------------------------


def request_hash(request: SearchRequest) -> str:
    """Stable hash of everything in ``request`` that shapes the ranking (not ``cursor`` nor ``limit``)."""
    body = request.model_dump(mode="json", exclude={"cursor", "limit"})
    raw = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:16]


CURSOR_KEY_FILE = "cursor.key"
_MAC_BYTES = 16


def cursor_key(home: Path | None) -> bytes:
    """The workspace's cursor-signing key (made with mode 0600 on first use); a fresh random key without one.

    The key is written to a temporary file and linked into place, so concurrent workers never read a
    half-written key: the first link wins and the others read it.
    """
    if home is None:
        return os.urandom(32)
    path = Path(home) / CURSOR_KEY_FILE
    if not path.exists():
        tmp = path.with_name(f".{CURSOR_KEY_FILE}.{os.getpid()}.{os.urandom(4).hex()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, os.urandom(32))
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    key = path.read_bytes()
    if len(key) < 16:
        raise ValueError(f"{path} holds no usable cursor key; delete it to make a new one")
    return key


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, payload, hashlib.sha256).digest()[:_MAC_BYTES]


def encode_cursor(offset: int, request: SearchRequest, version: str, key: bytes) -> str:
    """The signed cursor for ``offset`` into the ranking of ``request`` on snapshot ``version``."""
    payload = json.dumps({"o": offset, "h": request_hash(request), "v": version}, separators=(",", ":")).encode()
    return f"{_b64(payload)}.{_b64(_mac(key, payload))}"


def decode_cursor(cursor: str | None, request: SearchRequest, version: str, key: bytes) -> int:
    """Offset encoded in ``cursor`` (0 without one); QueryError ``bad_cursor`` when it does not fit."""
    if not cursor:
        return 0
    forged = QueryError("the cursor is not one this engine issued", code="bad_cursor")
    body, _, mac = cursor.partition(".")
    try:
        raw = _unb64(body)
        signed = hmac.compare_digest(_unb64(mac), _mac(key, raw))
    except (binascii.Error, ValueError):
        raise forged from None
    if not signed:
        raise forged
    try:
        data: Any = json.loads(raw.decode("utf-8"))
        offset = data["o"]
        ok = isinstance(offset, int) and not isinstance(offset, bool) and offset >= 0
    except (ValueError, UnicodeDecodeError, KeyError, TypeError):
        raise forged from None
    if not ok or not isinstance(data, dict):
        raise forged
    if data.get("h") != request_hash(request):
        raise QueryError("the cursor belongs to a different request; repeat the request without a cursor",
                         code="bad_cursor")
    if data.get("v") != version:
        raise QueryError("the index changed since this cursor was issued; repeat the request without a cursor",
                         code="bad_cursor")
    return int(offset)
