"""The read half of the DuckDB catalog: records rebuilt from stored columns (mixed into
:class:`indexer.store.store.Store`, which owns the connection; split off to keep each module small).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import duckdb

from indexer.models import Merchant, Option, OptionValue, Product, Variant
from indexer.store.rows import iso

_READ_CHUNK = 5000


class CatalogReads:
    """Record reads over ``self._con`` (set by :class:`indexer.store.store.Store`)."""

    _con: duckdb.DuckDBPyConnection

    def products(self, include_removed: bool = False, merchant_id: str | None = None) -> Iterator[Product]:
        """All products (ordered by doc_id), rebuilt from stored columns with a few bulk queries per chunk."""
        where, params = ["TRUE"], []
        if not include_removed:
            where.append("removed_at IS NULL")
        if merchant_id is not None:
            where.append("merchant_id = ?")
            params.append(merchant_id)
        last = ""
        while True:
            rows = self._con.execute(
                "SELECT doc_id, platform, merchant_id, product_id, title, url, handle, vendor, product_type, tags, "
                "body_html, body_text, gift_card, personalization_required, source_updated_at, extra FROM products "
                f"WHERE {' AND '.join(where)} AND doc_id > ? ORDER BY doc_id LIMIT {_READ_CHUNK}",
                [*params, last]).fetchall()
            if not rows:
                return
            yield from self._build(rows)
            last = rows[-1][0]

    def _build(self, rows: list[tuple[Any, ...]]) -> Iterator[Product]:
        lo, hi = rows[0][0], rows[-1][0]
        rng = "WHERE doc_id BETWEEN ? AND ? ORDER BY doc_id, position"
        variants: dict[str, list[Variant]] = {}
        for d, vid, pos, title, price, cur, avail, qty, sku, cmp, opts in self._con.execute(
                "SELECT doc_id, variant_id, position, title, price, currency, available, quantity, sku, "
                f"compare_at, options FROM variants {rng}", [lo, hi]).fetchall():
            ov = tuple(OptionValue(n, c, v) for n, c, v in json.loads(opts or "[]"))
            variants.setdefault(d, []).append(
                Variant(vid, title or "", price, cur, bool(avail), ov, sku, cmp, qty, pos or 0))
        options: dict[str, list[Option]] = {}
        for d, name, canon, vals in self._con.execute(
                f'SELECT doc_id, name, canonical, "values" FROM options {rng}', [lo, hi]).fetchall():
            options.setdefault(d, []).append(Option(name, canon, tuple(json.loads(vals or "[]"))))
        images: dict[str, list[str]] = {}
        for d, src in self._con.execute(f"SELECT doc_id, src FROM images {rng}", [lo, hi]).fetchall():
            images.setdefault(d, []).append(src)
        for (d, platform, mid, pid, title, url, handle, vendor, ptype, tags, body_html, body_text, gift, pers,
             updated, extra) in rows:
            yield Product(
                doc_id=d, platform=platform, merchant_id=mid, product_id=pid, title=title or "", url=url or "",
                variants=tuple(variants.get(d, ())), handle=handle, vendor=vendor, product_type=ptype,
                tags=tuple(json.loads(tags or "[]")), body_html=body_html or "", body_text=body_text or "",
                options=tuple(options.get(d, ())), images=tuple(images.get(d, ())), gift_card=bool(gift),
                personalization_required=bool(pers), updated_at=updated, extra=json.loads(extra or "{}"))

    def product(self, doc_id: str) -> Product | None:
        """One product by document id (removed ones included), or None."""
        rows = self._con.execute(
            "SELECT doc_id, platform, merchant_id, product_id, title, url, handle, vendor, product_type, tags, "
            "body_html, body_text, gift_card, personalization_required, source_updated_at, extra FROM products "
            "WHERE doc_id = ?", [doc_id]).fetchall()
        return next(self._build(rows), None) if rows else None

    def raw_json(self, doc_id: str) -> str | None:
        """The source JSON a product was parsed from (for re-parsing without a re-crawl)."""
        row = self._con.execute("SELECT raw_json FROM products WHERE doc_id = ?", [doc_id]).fetchone()
        return None if row is None else row[0]

    def merchants(self) -> list[Merchant]:
        """All merchants, ordered by id."""
        return [
            Merchant(merchant_id=m, platform=pl, name=n or m, base_url=b or "", currency=c or "USD", country=co,
                     ships_to=tuple(json.loads(s or "[]")), available=bool(a), shop_url=u)
            for m, pl, n, b, c, co, s, a, u in self._con.execute(
                "SELECT merchant_id, platform, name, base_url, currency, country, ships_to, available, shop_url "
                "FROM merchants ORDER BY merchant_id").fetchall()
        ]

    def crawled_at(self) -> dict[str, str]:
        """doc_id → ISO time its data was last read from the merchant (``last_seen``)."""
        return {d: iso(t) or "" for d, t in self._con.execute("SELECT doc_id, last_seen FROM products").fetchall()}
