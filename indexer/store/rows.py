"""Rows for the catalog store: pure functions from parsed records to table rows (no SQL, no I/O).

Split from :mod:`indexer.store.store` so that the crawler can prepare a page on its parse thread while the
store thread writes the previous one. :func:`prepare_page` is the entry point; :func:`content_hash`
decides whether a product changed; :func:`history_rows` describes what changed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from indexer.attributes import normalize_value
from indexer.jsontext import dumps
from indexer.models import Merchant, Product, Quarantined

# Bumped when parse.py's output for the same source JSON changes, so content hashes force a rewrite.
# "2": source JSON is kept as compact orjson text (one rewrite of every product after the upgrade).
PARSER_VERSION = "2"


def utcnow() -> datetime:
    """Now as naive UTC (the store's time convention)."""
    return datetime.now(UTC).replace(tzinfo=None)


def iso(t: datetime | None) -> str | None:
    """ISO 8601 text of a stored naive-UTC time (with ``Z``)."""
    return None if t is None else t.isoformat(timespec="seconds") + "Z"


def content_hash(raw_json: str | bytes, merchant: Merchant) -> str:
    """Hash deciding whether a product changed: source JSON + what parsing depends on besides it."""
    h = hashlib.blake2b(f"{PARSER_VERSION}|{merchant.currency}|{merchant.base_url}|".encode(), digest_size=16)
    h.update(raw_json if isinstance(raw_json, bytes) else raw_json.encode("utf-8", "surrogatepass"))
    return h.hexdigest()


@dataclass(frozen=True, slots=True)
class PageCounts:
    """What one :meth:`Store.write_page` did."""

    new: int = 0
    changed: int = 0
    unchanged: int = 0
    quarantined: int = 0


@dataclass(frozen=True, slots=True)
class Rows:
    """One product turned into table rows (everything but the write-time columns)."""

    hash: str
    product_row: tuple[Any, ...]  # products columns up to content_hash
    variants: list[tuple[Any, ...]]
    options: list[tuple[Any, ...]]
    variant_options: list[tuple[Any, ...]]
    images: list[tuple[Any, ...]]


@dataclass(frozen=True, slots=True)
class PreparedPage:
    """A page ready for :meth:`Store.write_prepared` (built by :func:`prepare_page`, no database needed)."""

    merchant: Merchant
    rows: dict[str, Rows]
    quarantined: tuple[Quarantined, ...]
    unchanged: tuple[str, ...] = ()


def prepare_page(merchant: Merchant, items: Sequence[tuple[Product, str]],
                 quarantined: Sequence[Quarantined] = (), unchanged: Sequence[str] = ()) -> PreparedPage:
    """Turn parsed products into rows (pure: no SQL), so a crawler can do it off the store thread.

    A doc_id repeated within the page keeps its last occurrence. ``unchanged`` are doc_ids the caller
    found identical to the stored version (see :meth:`Store.known_hashes`): they are only touched.
    """
    rows: dict[str, Rows] = {}
    for p, raw in items:
        h = content_hash(raw, merchant)
        d = p.doc_id
        prow = (d, p.platform, p.merchant_id, p.product_id, p.title, p.handle, p.vendor, p.product_type,
                dumps(p.tags), p.body_html, p.body_text, p.url, p.gift_card,
                p.personalization_required, p.updated_at, dumps(p.extra),
                raw, h)
        v, vo = _variant_rows(p)
        opts = [(d, k, o.name, o.canonical, dumps(o.values))
                for k, o in enumerate(p.options)]
        rows[d] = Rows(h, prow, v, opts, vo, [(d, k, src) for k, src in enumerate(p.images)])
    return PreparedPage(merchant, rows, tuple(quarantined), tuple(d for d in unchanged if d not in rows))


def _variant_rows(p: Product) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    variants, vopts = [], []
    for v in p.variants:
        opts = [[o.name, o.canonical, o.value] for o in v.options]
        variants.append((p.doc_id, v.variant_id, v.position, v.title, v.price, v.currency, v.available,
                         v.quantity, v.sku, v.compare_at, dumps(opts)))
        for k, o in enumerate(v.options):
            vopts.append((p.doc_id, v.variant_id, k, o.name, o.canonical, o.value, normalize_value(o.value)))
    return variants, vopts


def history_rows(doc_id: str, variants: Sequence[tuple[Any, ...]], old: dict[str, tuple[int | None, bool]],
                 run_id: str, at: datetime) -> list[tuple[Any, ...]]:
    """Price/availability/variant changes between the stored variants ``old`` and a product's new variant rows.

    ``variants`` are the product's ``variants`` table rows (:attr:`Rows.variants`, in the product's order), so a
    page read back from the distributed crawl's staging files (no :class:`Product`) gives the same history.
    """
    rows: list[tuple[Any, ...]] = []
    new_ids = set()
    for v in variants:
        vid, v_price, v_available = v[1], v[4], v[6]
        new_ids.add(vid)
        if vid not in old:
            rows.append((doc_id, vid, "variant", None, "added", run_id, at))
            continue
        price, available = old[vid]
        if price != v_price:
            rows.append((doc_id, vid, "price", _s(price), _s(v_price), run_id, at))
        if bool(available) != v_available:
            rows.append((doc_id, vid, "available", _s(available), _s(v_available), run_id, at))
    for vid in old.keys() - new_ids:
        rows.append((doc_id, vid, "variant", "present", "removed", run_id, at))
    return rows


def _s(x: Any) -> str | None:
    return None if x is None else (str(x).lower() if isinstance(x, bool) else str(x))


def columns(rows: Sequence[tuple[Any, ...]]) -> dict[str, np.ndarray]:
    """Rows of scalars → ``{"c0": column, "c1": ...}`` as numpy object arrays, in column order.

    DuckDB scans such a dict column by column in C++, a third cheaper than binding each column as a
    list parameter (which builds one DuckDB value per cell).
    """
    out: dict[str, np.ndarray] = {}
    for i, col in enumerate(zip(*rows, strict=True)):
        out[f"c{i}"] = np.fromiter(col, dtype=object, count=len(col))
    return out
