"""aisle's multi-merchant cart links in UCP's shapes: a cart (``dev.ucp.shopping.cart``, ``cart.json``) and a
shopping permalink (``dev.ucp.shopping.permalink``), both over the live re-check (:meth:`Engine.check
<search.engine.Engine.check>`, the call behind ``POST /v1/checkout/check``).

**Cart** (``POST /ucp/carts`` = UCP ``create_cart``; ``GET /ucp/carts/{id}`` = ``get_cart``). Each line's
``item.id`` is a variant id (as search and lookup give them); aisle re-reads every merchant and answers a
UCP cart. Where aisle differs from a single business, the choices are:

* Stateless: the cart ``id`` encodes its lines and country (``c1.`` + base64url JSON), so ``get_cart``
  re-checks the same lines live; there is no ``update_cart``/``cancel_cart`` (the carts that hold state
  are the merchants' own, reached through the links below).
* A UCP cart has one currency: lines priced in several currencies are answered HTTP 200 with
  ``error_response`` ``mixed_currencies`` (send one cart per currency); so is a cart with no priced line.
* Prices are the live ones (the indexed price when the merchant could not be read, with a warning).
  ``totals`` hold ``subtotal`` and ``total`` (equal: shipping and tax are each merchant's, at checkout; an
  ``info`` message says so). An ineligible line stays in the cart with an ``error`` message (code: aisle's
  reason, e.g. ``out_of_stock``, ``not_shipping_to_country``; severity ``recoverable``: remove or change it)
  and is left out of the checkout link; a changed price is a ``warning`` ``price_changed``.
* Checkout: items of one merchant → ``continue_url`` is that merchant's checkout link (a Shopify cart
  permalink with every eligible item, or the Etsy listing). Items of several merchants → no
  ``continue_url``; one ``links[]`` entry per merchant (``type: "checkout"``, title naming the merchant) and
  a ``warning`` ``multiple_merchants``. Links are built by aisle from crawled origins, never copied.

**Permalink** (``GET /ucp/buy/{items}``, ``items`` = ``id:qty[,id:qty]...`` with UCP's ``~``-base64url
tokens for ids outside ``[A-Za-z0-9._-]``; the buyer country from the ``context/address_country`` query
field, default US). Declared in the profile only on https. It answers ``303 See Other`` with
``Cache-Control: no-store`` and ``Referrer-Policy: no-referrer``: to the one merchant's checkout link when
there is one, else to ``/ucp/handoff/{items}``, a plain HTML page listing each merchant's link and why items
cannot be bought. ``continue_to`` is ignored (aisle has no buyer pages of its own to continue to).
"""

from __future__ import annotations

import base64
import binascii
import html
import json
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from indexer.errors import NotFoundError, QueryError
from search.schema import MERCHANT_CONTENT_NOTICE, CartItem, CheckedItem, CheckResponse, Money
from search.serve.sanitise import sanitised
from search.serve.ucp import UcpContext
from search.serve.ucp_discovery import CART, outcome_error, response_meta

CART_PREFIX = "c1."
_RAW_TOKEN = re.compile(r"[A-Za-z0-9._-]+")
_QTY = re.compile(r"[1-9][0-9]{0,2}")


class UcpItemRef(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str = Field(min_length=1, max_length=64, description="A variant id (from search or lookup).")


class UcpLineItemIn(BaseModel):
    model_config = ConfigDict(extra="allow")
    item: UcpItemRef
    quantity: int = Field(ge=1, le=999)


class UcpCartRequest(BaseModel):
    """``cart.json`` as a create request: ``line_items`` and ``context`` (``buyer``, ``signals``,
    ``attribution`` accepted, unused)."""

    model_config = ConfigDict(extra="allow")
    line_items: list[UcpLineItemIn] = Field(min_length=1, max_length=50)
    context: UcpContext = Field(default_factory=UcpContext)

    def cart_items(self) -> list[CartItem]:
        return [CartItem(variant_id=li.item.id, quantity=li.quantity) for li in self.line_items]


def cart_id(items: list[CartItem], country: str) -> str:
    """The stateless id of a cart: its country and lines, base64url JSON."""
    raw = json.dumps([country, [[i.variant_id, i.quantity] for i in items]], separators=(",", ":"))
    return CART_PREFIX + base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def parse_cart_id(cid: str) -> tuple[list[CartItem], str]:
    """(lines, country) of a cart id; :class:`NotFoundError` when it is not one aisle made."""
    try:
        if not cid.startswith(CART_PREFIX) or len(cid) > 8000:
            raise ValueError(cid)
        body = cid[len(CART_PREFIX):]
        country, lines = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        items = [CartItem(variant_id=str(v), quantity=int(q)) for v, q in lines]
        if not isinstance(country, str) or not 1 <= len(items) <= 50:
            raise ValueError(cid)
        return items, country
    except (ValueError, TypeError, binascii.Error):
        raise NotFoundError("no such cart: cart ids come from POST /ucp/carts") from None


def _line(n: int, item: CheckedItem, price: Money) -> dict[str, Any]:
    amount = price.amount * item.quantity
    return {"id": f"li_{n + 1}", "item": {"id": item.variant_id, "title": item.title or item.variant_id,
                                          "price": price.amount},
            "quantity": item.quantity, "totals": [{"type": "subtotal", "amount": amount},
                                                  {"type": "total", "amount": amount}]}


def _line_messages(n: int, item: CheckedItem, live: bool) -> list[dict[str, Any]]:
    path = f"$.line_items[{n}]"
    out: list[dict[str, Any]] = []
    if not item.eligible:
        out.append({"type": "error", "code": item.reasons[0] if item.reasons else "item_unavailable", "path": path,
                    "content": "cannot be bought now: " + ", ".join(item.reasons), "severity": "recoverable"})
    if not live:
        out.append({"type": "warning", "code": "price_not_live", "path": path,
                    "content": "the merchant could not be read: this is the indexed price"})
    elif item.price_changed:
        out.append({"type": "warning", "code": "price_changed", "path": path,
                    "content": "the merchant's price differs from the indexed one; this is the live price"})
    return out


def ucp_cart(check: CheckResponse, items: list[CartItem], version: str) -> dict[str, Any]:
    """A UCP cart (or a business-outcome ``error_response``) for a live re-check (rules in the module docstring)."""
    check = CheckResponse.model_validate(sanitised(check))
    lines: list[tuple[dict[str, Any], str]] = []
    messages: list[dict[str, Any]] = []
    for item in check.items:
        price = item.price or item.indexed_price
        if price is None:
            messages.append({"type": "error", "code": item.reasons[0] if item.reasons else "item_unavailable",
                             "content": f"{item.variant_id}: no price ({', '.join(item.reasons)}); left out",
                             "severity": "recoverable"})
            continue
        messages += _line_messages(len(lines), item, item.price is not None)
        lines.append((_line(len(lines), item, price), price.currency))
    currencies = sorted({c for _, c in lines})
    if not lines:
        return outcome_error(version, "item_unavailable", "no line of this cart has a price: "
                             + "; ".join(m["content"] for m in messages), capability=CART)
    if len(currencies) > 1:
        return outcome_error(version, "mixed_currencies", f"the lines are priced in {', '.join(currencies)}; a UCP "
                             "cart has one currency: send one cart per currency", severity="recoverable",
                             capability=CART)
    subtotal = sum(li["totals"][0]["amount"] for li, _ in lines)
    messages.append({"type": "info", "code": "totals_estimated",
                     "content": "shipping and tax are added by each merchant at checkout"})
    messages.append({"type": "info", "code": "merchant_content", "content": MERCHANT_CONTENT_NOTICE})
    cart: dict[str, Any] = {
        "ucp": response_meta(version, CART), "id": cart_id(items, check.country),
        "line_items": [li for li, _ in lines], "context": {"address_country": check.country},
        "currency": currencies[0],
        "totals": [{"type": "subtotal", "amount": subtotal}, {"type": "total", "amount": subtotal}],
    }
    links = [co for co in check.checkouts if co.checkout_url]
    if len(check.checkouts) == 1 and links:
        cart["continue_url"] = links[0].checkout_url
    elif len(check.checkouts) > 1:
        cart["links"] = [{"type": "checkout", "url": co.checkout_url, "title": f"Checkout at {co.merchant.name}"}
                         for co in links]
        messages.append({"type": "warning", "code": "multiple_merchants", "content": "the items are sold by "
                         f"{len(check.checkouts)} merchants: check out at each one (links)"})
    cart["messages"] = messages
    return cart


def parse_permalink_items(path: str) -> list[CartItem]:
    """``id:qty[,id:qty]...`` (UCP's compact item path; ``~``-base64url ids decoded) → cart items."""
    items = []
    for pair in path.split(","):
        token, sep, qty = pair.rpartition(":")
        if not sep or not _QTY.fullmatch(qty):
            raise QueryError(f"a permalink item is id:quantity (1-999), got {pair[:80]!r}", code="bad_permalink")
        items.append(CartItem(variant_id=_decode_token(token), quantity=int(qty)))
    if not 1 <= len(items) <= 50:
        raise QueryError("a permalink names 1 to 50 items", code="bad_permalink")
    return items


def _decode_token(token: str) -> str:
    if _RAW_TOKEN.fullmatch(token) and len(token) <= 64:
        return token
    bad = QueryError(f"bad permalink item id {token[:80]!r}: raw [A-Za-z0-9._-] or ~base64url", code="bad_permalink")
    body = token[1:]
    if not token.startswith("~") or not re.fullmatch(r"[A-Za-z0-9_-]+", body) or len(body) % 4 == 1:
        raise bad
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        value = raw.decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise bad from None
    canonical = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    if canonical != body or not value or len(value) > 64 or any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise bad
    return value


def permalink_token(variant_id: str) -> str:
    """A variant id as a compact-path token (raw when it can be, else ``~`` + base64url)."""
    if _RAW_TOKEN.fullmatch(variant_id):
        return variant_id
    return "~" + base64.urlsafe_b64encode(variant_id.encode()).decode().rstrip("=")


def permalink_target(check: CheckResponse) -> str | None:
    """Where a permalink sends the buyer: the one merchant's checkout link (None: several, or none)."""
    if len(check.checkouts) == 1 and check.checkouts[0].checkout_url:
        return check.checkouts[0].checkout_url
    return None


def handoff_page(check: CheckResponse) -> str:
    """A plain HTML page (escaped, no script) listing each merchant's checkout link and unbuyable items."""
    check = CheckResponse.model_validate(sanitised(check))
    esc = html.escape
    rows = [f'<li><a href="{esc(co.checkout_url)}" rel="noreferrer">Checkout at {esc(co.merchant.name)}</a></li>'
            for co in check.checkouts if co.checkout_url]
    rows += [f"<li>{esc(i.title or i.variant_id)}: cannot be bought now ({esc(', '.join(i.reasons))})</li>"
             for i in check.items if not i.eligible]
    return ("<!doctype html><html><head><meta charset=\"utf-8\"><title>aisle: check out at each merchant</title>"
            "</head><body><h1>Check out at the merchants</h1><p>One link per merchant "
            f"(buyer country {esc(check.country)}):</p><ul>{''.join(rows)}</ul></body></html>")
