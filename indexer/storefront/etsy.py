"""Etsy Open API v3 endpoints of the simulator, served under ``/etsy/v3/application``.

* ``GET /shops/<shop_id>``; ``GET /shops/<shop_id>/listings/active?limit=&offset=`` (``limit``
  defaults to 25 and is clamped to 1..100, ``offset`` defaults to 0; only ``state == "active"``
  listings; ``{"count": N, "results": [...]}``); ``GET /listings/<id>`` (any state, so a live
  re-check sees ``sold_out``); ``GET /listings/<id>/inventory``.
* Every call needs ``x-api-key: keystring:shared_secret``; otherwise 403
  ``{"error": "Shared secret is required in x-api-key header."}``.
* ``/listings/<id>/inventory`` is an owner-only read, as on Etsy: it also needs ``Authorization: Bearer
  <token>`` from the shop owner's OAuth grant with scope ``listings_r`` (401 ``{"error": "invalid_token"}``
  without a usable token, 403 for another shop's token or a missing scope; see
  :mod:`indexer.storefront.etsy_oauth`). The public reads need the API key alone.
* Every authorised answer carries ``x-limit-per-second`` (10), ``x-remaining-this-second``,
  ``x-limit-per-day`` (10000) and ``x-remaining-today``, counted per key (the keystring). The daily budget
  is always enforced: a key past it gets 429 with ``retry-after`` = the seconds until midnight UTC, when
  the day's count starts again. The per-second limit is only reported by default; with ``enforce=True`` a
  key over it gets 429 with ``retry-after: 1`` like the real API. Both limits are settable for tests.
* Errors are ``{"error": "..."}``. A shop on vacation keeps its listings (``is_vacation`` says it).
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Mapping

from indexer.storefront.catalog import Catalog
from indexer.storefront.etsy_oauth import OAuthServer
from indexer.storefront.reply import Reply, json_reply

LIMIT_PER_SECOND = 10
LIMIT_PER_DAY = 10_000
DEFAULT_LIMIT = 25
MAX_LIMIT = 100
_KEY = re.compile(r"^[^:\s]+:[^:\s]+$")
MISSING_SECRET = "Shared secret is required in x-api-key header."


class RateMeter:
    """Per-key request counts for the rate-limit headers (per wall-clock second and per UTC day)."""

    def __init__(self, enforce: bool = False, *, per_second: int = LIMIT_PER_SECOND,
                 per_day: int = LIMIT_PER_DAY) -> None:
        self.enforce, self.per_second, self.per_day = enforce, per_second, per_day
        self._second: dict[str, tuple[int, int]] = {}
        self._day: Counter[tuple[str, int]] = Counter()

    def hit(self, api_key: str) -> tuple[dict[str, str], Reply | None]:
        """Count one request; return the headers and, when the key is over a limit, the 429 answer.

        A refused request still counts against the second (as Etsy's sliding window does) but not the day.
        """
        key = api_key.split(":", 1)[0]
        now = time.time()
        sec, n = self._second.get(key, (int(now), 0))
        n = n + 1 if sec == int(now) else 1
        self._second[key] = (int(now), n)
        day = int(now // 86400)
        over_day = self._day[(key, day)] >= self.per_day
        if not over_day:
            self._day[(key, day)] += 1
        headers = {
            "x-limit-per-second": str(self.per_second),
            "x-remaining-this-second": str(max(0, self.per_second - n)),
            "x-limit-per-day": str(self.per_day),
            "x-remaining-today": str(max(0, self.per_day - self._day[(key, day)])),
        }
        if over_day:
            wait = max(1, int((day + 1) * 86400 - now))
            reply = error(429, f"You have exceeded your quota of {self.per_day} requests per day.")
            reply.headers = {**headers, "retry-after": str(wait)}
            return headers, reply
        if self.enforce and n > self.per_second:
            reply = error(429, f"You have exceeded your quota of {self.per_second} requests per second.")
            reply.headers = {**headers, "retry-after": "1"}
            return headers, reply
        return headers, None


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


def inventory(catalog: Catalog, listing_id: str, oauth: OAuthServer, headers: Mapping[str, str]) -> Reply:
    """``GET /listings/<listing_id>/inventory`` (owner-only: the bearer token must be the shop owner's)."""
    lid = _int(listing_id)
    found = catalog.etsy_listing(lid) if lid is not None else None
    if found is None or lid is None:
        # Etsy checks the token before it looks the listing up: no token, no hint whether it exists.
        refused = oauth.authorise(headers, -1)
        if refused is not None and refused.status == 401:
            return refused
        return error(404, f"Could not find a Listing with listing_id = {listing_id}")
    refused = oauth.authorise(headers, found[0].shop_id)
    if refused is not None:
        return refused
    return Reply(200, found[0].inventory_bytes(lid), faultable=True)
