"""Etsy Open API v3 endpoints of the simulator, served under ``/etsy/v3/application``.

* ``GET /shops/<shop_id>``; ``GET /shops/<shop_id>/listings/active?limit=&offset=`` (``limit``
  defaults to 25 and is clamped to 1..100, ``offset`` defaults to 0; only ``state == "active"``
  listings; ``{"count": N, "results": [...]}``); ``GET /listings/<id>`` (any state, so a live
  re-check sees ``sold_out``); ``GET /listings/<id>/inventory``.
* Every call needs ``x-api-key: keystring:shared_secret``; otherwise 403
  ``{"error": "Shared secret is required in x-api-key header."}``.
* Every authorised answer carries ``x-limit-per-second`` (10), ``x-remaining-this-second``,
  ``x-limit-per-day`` (10000) and ``x-remaining-today``, counted per key. The limits are only
  reported by default; with ``enforce=True`` a key over its per-second budget gets 429 with
  ``retry-after: 1`` like the real API.
* Errors are ``{"error": "..."}``. A shop on vacation keeps its listings (``is_vacation`` says it).
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Mapping

from indexer.storefront.catalog import Catalog
from indexer.storefront.reply import Reply, json_reply

LIMIT_PER_SECOND = 10
LIMIT_PER_DAY = 10_000
DEFAULT_LIMIT = 25
MAX_LIMIT = 100
_KEY = re.compile(r"^[^:\s]+:[^:\s]+$")
MISSING_SECRET = "Shared secret is required in x-api-key header."


class RateMeter:
    """Per-key request counts for the rate-limit headers (per wall-clock second and per day)."""

    def __init__(self, enforce: bool = False) -> None:
        self.enforce = enforce
        self._second: dict[str, tuple[int, int]] = {}
        self._day: Counter[str] = Counter()

    def hit(self, key: str) -> tuple[dict[str, str], bool]:
        """Count one request; return the headers and whether it is over the per-second limit."""
        now = int(time.time())
        sec, n = self._second.get(key, (now, 0))
        n = n + 1 if sec == now else 1
        self._second[key] = (now, n)
        self._day[key] += 1
        headers = {
            "x-limit-per-second": str(LIMIT_PER_SECOND),
            "x-remaining-this-second": str(max(0, LIMIT_PER_SECOND - n)),
            "x-limit-per-day": str(LIMIT_PER_DAY),
            "x-remaining-today": str(max(0, LIMIT_PER_DAY - self._day[key])),
        }
        return headers, self.enforce and n > LIMIT_PER_SECOND


def error(status: int, message: str) -> Reply:
    return json_reply(status, {"error": message})


def check_key(headers: Mapping[str, str]) -> str | None:
    """The API key when it has the ``keystring:shared_secret`` form, else None."""
    key = (headers.get("x-api-key") or "").strip()
    return key if _KEY.match(key) else None


def _int(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def _paging(params: Mapping[str, str]) -> tuple[int, int]:
    raw_limit = params.get("limit", "")
    try:
        limit = max(1, min(MAX_LIMIT, int(raw_limit)))
    except ValueError:
        limit = DEFAULT_LIMIT
    try:
        offset = max(0, int(params.get("offset", "0")))
    except ValueError:
        offset = 0
    return limit, offset


def shop(catalog: Catalog, shop_id: str) -> Reply:
    """``GET /shops/<shop_id>``."""
    sid = _int(shop_id)
    s = catalog.etsy_by_id.get(sid) if sid is not None else None
    if s is None:
        return error(404, f"Could not find a Shop with shop_id = {shop_id}")
    return Reply(200, s.shop_bytes(), faultable=True)


def active_listings(catalog: Catalog, shop_id: str, params: Mapping[str, str]) -> Reply:
    """``GET /shops/<shop_id>/listings/active``."""
    sid = _int(shop_id)
    s = catalog.etsy_by_id.get(sid) if sid is not None else None
    if s is None:
        return error(404, f"Could not find a Shop with shop_id = {shop_id}")
    limit, offset = _paging(params)
    return Reply(200, s.active_page(limit, offset), faultable=True)


def listing(catalog: Catalog, listing_id: str) -> Reply:
    """``GET /listings/<listing_id>``."""
    lid = _int(listing_id)
    found = catalog.etsy_listing(lid) if lid is not None else None
    if found is None:
        return error(404, f"Could not find a Listing with listing_id = {listing_id}")
    s, x = found
    return Reply(200, s.listing_bytes(x), faultable=True)


def inventory(catalog: Catalog, listing_id: str) -> Reply:
    """``GET /listings/<listing_id>/inventory``."""
    lid = _int(listing_id)
    found = catalog.etsy_listing(lid) if lid is not None else None
    if found is None or lid is None:
        return error(404, f"Could not find a Listing with listing_id = {listing_id}")
    return Reply(200, found[0].inventory_bytes(lid), faultable=True)
