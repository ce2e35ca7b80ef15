"""The one URL policy for merchant-provided links (product pages, images): which ones aisle keeps.

A merchant's data is hostile until checked. A link is served to agents and, through them, to buyers'
browsers, so :func:`merchant_url` keeps a URL only when it is

* ``https:`` on the merchant's own origin (the origin aisle crawled: scheme, host and port of
  ``Merchant.base_url``, never a domain the store merely claims), or on a known platform host
  (:data:`PLATFORM_HOSTS`: Shopify's and Etsy's CDNs and listing pages);
* ``http:`` only on the merchant's own origin when that origin is itself ``http:``: the crawler reaches a
  plain-http origin only because the operator named it (a test storefront on an allow-listed host);
* free of credentials (``user@host``), control and format characters, spaces, quotes and
  backslashes, and at most :data:`MAX_URL_CHARS` long. Non-ASCII characters are percent-encoded
  (a non-ASCII host then matches no allowed origin).

Protocol-relative links (``//cdn.shopify.com/...``) are read as ``https:``. Everything else
(``javascript:``, ``data:``, ``file:``, a cloud metadata address such as ``http://169.254.169.254/``,
another store's host) is refused with a reason: the crawl quarantines a record whose product link is
refused and drops a refused image (:mod:`indexer.crawl.parse`); the search edge applies the same
function again to data crawled before this rule existed (:mod:`search.answer`).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from urllib.parse import quote, urlsplit

MAX_URL_CHARS = 2048

#: Hosts every merchant of a platform may link to over https (platform CDNs and listing pages).
PLATFORM_HOSTS: dict[str, frozenset[str]] = {
    "shopify": frozenset({"cdn.shopify.com", "cdn.shopifycdn.net"}),
    "etsy": frozenset({"www.etsy.com", "etsy.com", "i.etsystatic.com", "img.etsystatic.com"}),
}

_URL_SAFE = ":/?#[]@!$&()*+,;=%~-._"
_BAD_CHARS = re.compile(r"[\x00-\x20\x7f\\\"'<>`{}|^]")  # one character class: linear


def origin_of(url: str) -> tuple[str, str, int] | None:
    """``(scheme, host, port)`` of an absolute http(s) URL, lower case, default ports filled in; None otherwise."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if scheme not in ("http", "https") or not host:
        return None
    return scheme, host, port or (443 if scheme == "https" else 80)


@lru_cache(maxsize=1024)
def _base_origin(base_url: str) -> tuple[str, str, int] | None:
    """:func:`origin_of` of a merchant's base URL: a few per catalog, checked for every link a search returns."""
    return origin_of(base_url)


def check_merchant_url(url: object, base_url: str, platform: str) -> tuple[str | None, str | None]:
    """``(kept URL, None)`` or ``(None, reason)`` for a merchant-provided ``url`` (see the module docstring).

    ``base_url`` is the merchant's crawled origin (``Merchant.base_url``), ``platform`` its platform.
    """
    if not isinstance(url, str) or not url.strip():
        return None, "empty url"
    url = url.strip()
    if len(url) > MAX_URL_CHARS:
        return None, f"url longer than {MAX_URL_CHARS} characters"
    if _BAD_CHARS.search(url) or (not url.isascii() and any(unicodedata.category(c)[0] in "CZ" for c in url)):
        return None, "url with control, space, quote or backslash characters"
    if not url.isascii():  # a non-ASCII path ("ilumipix™-panel") is served percent-encoded
        url = quote(url, safe=_URL_SAFE)
    if url.startswith("//"):
        url = "https:" + url
    got = origin_of(url)
    if got is None:
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        return None, f"url scheme {scheme!r} is not http(s)" if scheme else "not an absolute http(s) url"
    if "@" in urlsplit(url).netloc:
        return None, "url carries credentials"
    own = _base_origin(base_url)
    if own is not None and got == own:
        return url, None
    if got[0] == "https" and got[1] in PLATFORM_HOSTS.get(platform, frozenset()) and got[2] == 443:
        return url, None
    return None, f"url host {got[1]!r} is neither the merchant's origin nor a known {platform} host"


def merchant_url(url: object, base_url: str, platform: str) -> str | None:
    """The kept URL, or None when :func:`check_merchant_url` refuses it."""
    return check_merchant_url(url, base_url, platform)[0]
