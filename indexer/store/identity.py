"""Merchant identity: which store URL may speak for a merchant id.

A Shopify merchant's id comes from the store's own ``/meta.json`` (``myshopify_domain``), which any store
can copy. So the id is bound to what the crawler verified, the URL it fetched it from:

* The first crawl of a merchant id records its **origin** (the store URL, normalised by
  :func:`normalise_origin`; for an Etsy shop, the API base the shop was read from).
* A later crawl of the same origin, or of an origin the operator linked to that id
  (``merchant_links``: ``aisle merchants link ID ORIGIN`` or a ``merchant_id`` entry in the ``--merchants``
  file), speaks for the merchant.
* Any other origin claiming the id is refused: :meth:`MerchantIdentity.identity_conflict` says why, the
  crawler records it as ``identity_conflict`` in ``crawl_errors`` and writes nothing for that crawl (no
  merchant update, no product, nothing marked removed).

Catalogs made before identity existed have merchants without an origin: their ``base_url`` (where they
were last crawled from) is taken as the origin the first time it is needed, and kept.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

import duckdb

from indexer.errors import ConfigError, NotFoundError


def normalise_origin(url: str) -> str:
    """``url`` as an identity: lower-case scheme and host, no default port, no trailing slash, no query.

    The path stays: stores served under one host at different paths (the simulator) are different stores.
    """
    try:
        p = urlsplit(url.strip())
        host, port = (p.hostname or "").lower(), p.port
    except ValueError:
        raise ConfigError(f"not a store URL: {url!r}") from None
    if p.scheme.lower() not in ("http", "https") or not host:
        raise ConfigError(f"not a store URL: {url!r} (expected e.g. https://store.example)")
    scheme = p.scheme.lower()
    if port is None or (scheme, port) in (("http", 80), ("https", 443)):
        netloc = f"[{host}]" if ":" in host else host
    else:
        netloc = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return f"{scheme}://{netloc}{p.path.rstrip('/')}"


def origin_of(url: str | None) -> str | None:
    """:func:`normalise_origin`, tolerant: text that is no store URL is kept as it is (None when empty).

    A merchant record written by hand or by an old aisle may hold anything; it must still compare, not crash.
    """
    if not url or not url.strip():
        return None
    try:
        return normalise_origin(url)
    except ConfigError:
        return url.strip()


class MerchantIdentity:
    """Identity reads and writes of :class:`~indexer.store.store.Store` (see the module docstring)."""

    _con: duckdb.DuckDBPyConnection

    def merchant_origin(self, merchant_id: str) -> str | None:
        """The origin a merchant is bound to (None: no such merchant yet)."""
        row = self._con.execute("SELECT coalesce(origin, base_url) FROM merchants WHERE merchant_id = ?",
                                [merchant_id]).fetchone()
        return None if row is None else origin_of(row[0])

    def merchant_links(self, merchant_id: str) -> list[str]:
        """Origins the operator linked to ``merchant_id``, oldest first."""
        return [r[0] for r in self._con.execute(
            "SELECT origin FROM merchant_links WHERE merchant_id = ? ORDER BY linked_at, origin",
            [merchant_id]).fetchall()]

    def identity_conflict(self, merchant_id: str, origin: str) -> str | None:
        """Why ``origin`` may not speak for ``merchant_id`` (None: it may; a new id may always be claimed)."""
        origin = normalise_origin(origin)
        bound = self.merchant_origin(merchant_id)
        if bound is None or bound == origin or origin in self.merchant_links(merchant_id):
            return None
        return (f"{origin} claims merchant {merchant_id!r}, which was first crawled from {bound}; refused, "
                f"nothing changed (if the store moved: aisle merchants link {merchant_id} {origin})")

    def link_merchant(self, merchant_id: str, origin: str, *, now: datetime, source: str = "cli",
                      must_exist: bool = True) -> str:
        """Let ``origin`` speak for ``merchant_id`` from now on (idempotent); returns the normalised origin.

        With ``must_exist``, :class:`NotFoundError` when no merchant has that id (a typo would otherwise
        reserve the id for whatever store claims it first).
        """
        origin = normalise_origin(origin)
        if must_exist and self.merchant_origin(merchant_id) is None:
            raise NotFoundError(f"no merchant {merchant_id!r} in the catalog (see `aisle stats`)")
        self._con.execute("INSERT INTO merchant_links VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                          [merchant_id, origin, now, source])
        return origin
