"""The DuckDB catalog: with its read half :mod:`indexer.store.read`, the only code that speaks SQL to
``catalog.duckdb``.

Tables: :mod:`indexer.store.schema`.

Write rules (see :meth:`Store.write_page` and :meth:`Store.finish_merchant`):

* One transaction per page, so a kill at any point leaves a consistent database.
* A product whose content hash did not change is not rewritten (only ``last_seen``/``last_run_id``).
* Only a *complete* merchant crawl marks missing products removed (never deleted); a removed product
  that comes back is revived. A record that is quarantined counts as seen: its last good version is
  kept (not marked removed) and the quarantine row says why it was not updated.
* Every stored page, merchant upsert and removal moves :meth:`Store.watermark`, unchanged pages too:
  ``last_seen`` is the index's ``crawled_at``, so a re-crawl that found nothing new still refreshes it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from indexer.errors import StoreError
from indexer.models import Merchant, Product, Quarantined, make_doc_id
from indexer.store.identity import MerchantIdentity, origin_of
from indexer.store.read import CatalogReads
from indexer.store.rows import (
    PARSER_VERSION,
    PageCounts,
    PreparedPage,
    Rows,
    columns,
    content_hash,
    history_rows,
    iso,
    prepare_page,
    utcnow,
)
from indexer.store.schema import PRODUCT_COLUMNS, SCHEMA_SQL, SCHEMA_VERSION
from indexer.store.stats import CatalogStats

__all__ = ["PARSER_VERSION", "Clock", "PageCounts", "PreparedPage", "Store", "content_hash", "iso", "prepare_page",
           "utcnow"]

Clock = Callable[[], datetime]
"""Returns now as naive UTC (the store's time convention); :func:`utcnow` by default, a fake in tests."""

# Columns of products written from the page (the rest are the write-time stamp, bound as parameters).
_STAMP = "?, ?, ?, NULL, ?, ?"  # first_seen, last_seen, changed_at, removed_at, last_run_id, change_seq
_Q13 = ", ".join("?" * 13)  # the merchants columns


class Store(CatalogReads, CatalogStats, MerchantIdentity):
    """A DuckDB catalog file. Open with :meth:`Store.open`; use as a context manager.

    The record reads (:meth:`products`, :meth:`product`, :meth:`merchants`, :meth:`crawled_at`,
    :meth:`raw_json`) live in :class:`~indexer.store.read.CatalogReads`, merchant identity in
    :class:`~indexer.store.identity.MerchantIdentity`.

    Not thread-safe: use one Store from one thread at a time (the crawler funnels all writes
    through a single worker thread). Every time it writes comes from its ``clock`` (:meth:`now`).
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path, read_only: bool, clock: Clock = utcnow) -> None:
        self._con = con
        self.path = path
        self.read_only = read_only
        self._clock = clock

    # ------------------------------------------------------------------ lifecycle
    @classmethod
    def open(cls, path: str | Path, read_only: bool = False, *, clock: Clock = utcnow) -> Store:
        """Open (creating when writable) the catalog at ``path``; :class:`StoreError` if locked or damaged.

        ``clock`` gives every time the store writes (runs, ``last_seen``, errors...): naive UTC now by default.
        """
        p = Path(path)
        if read_only and not p.exists():
            raise StoreError(f"no catalog at {p}: run `aisle crawl` first")
        if not read_only:
            p.parent.mkdir(parents=True, exist_ok=True)
        try:
            con = duckdb.connect(str(p), read_only=read_only)
        except duckdb.Error as exc:
            msg = str(exc)
            if "lock" in msg.lower():
                raise StoreError(f"catalog {p} is in use by another process (one writer at a time): {msg}") from None
            raise StoreError(f"cannot open catalog {p} (damaged or not a DuckDB file?): {msg}") from None
        store = cls(con, p, read_only, clock)
        try:
            if not read_only:
                # Checkpoint (compress into the main file) rarely: per-16MB checkpoints doubled the cost of
                # ingesting a catalog. Commits still go to the write-ahead log, so durability is unchanged.
                con.execute("SET checkpoint_threshold = '256MB'")
                # Pages are inserted as numpy object columns, whose SQL type DuckDB infers from a sample of
                # rows; sampling every row means a rare wide value (a BIGINT among small ints) is typed right.
                con.execute("SET pandas_analyze_sample = 1000000000")
            store._init_schema()
        except StoreError:
            con.close()
            raise
        except duckdb.Error as exc:
            con.close()
            raise StoreError(f"catalog {p} is unusable: {exc}") from None
        return store

    def _init_schema(self) -> None:
        if self.read_only:
            found = self._con.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = 'store_meta'").fetchone()
            if not found or not found[0]:
                raise StoreError(f"{self.path} is not an aisle catalog (no store_meta table)")
        else:
            self._con.execute(SCHEMA_SQL)
            self._con.execute(
                "INSERT INTO store_meta VALUES ('schema_version', ?), ('db_id', ?), ('change_counter', '0') "
                "ON CONFLICT DO NOTHING", [SCHEMA_VERSION, uuid.uuid4().hex[:12]])
        version = self._meta("schema_version")
        if version != SCHEMA_VERSION:
            raise StoreError(f"catalog {self.path} has schema version {version}, this aisle needs {SCHEMA_VERSION}")
        if not self.read_only:
            # We hold the write lock, so a run still marked running was killed: say so.
            self._con.execute("UPDATE crawl_runs SET status = 'aborted' WHERE status = 'running'")

    def close(self) -> None:
        """Close the connection (checkpointing the write-ahead log)."""
        self._con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def now(self) -> datetime:
        """The store's clock: now as naive UTC."""
        return self._clock()

    def _meta(self, key: str) -> str | None:
        row = self._con.execute("SELECT value FROM store_meta WHERE key = ?", [key]).fetchone()
        return None if row is None else str(row[0])

    def _bump_counter(self) -> int:
        row = self._con.execute(
            "UPDATE store_meta SET value = CAST(CAST(value AS BIGINT) + 1 AS VARCHAR) "
            "WHERE key = 'change_counter' RETURNING value").fetchone()
        assert row is not None
        return int(row[0])

    def _insert(self, table: str, rows: Sequence[tuple[Any, ...]]) -> None:
        """Bulk insert: DuckDB scans the rows as numpy object columns (see :func:`columns`)."""
        if not rows:
            return
        _aisle_rows = columns(rows)  # noqa: F841  (read by DuckDB's replacement scan, by name)
        self._con.execute(f"INSERT INTO {table} SELECT * FROM _aisle_rows")

    def _tx(self) -> _Transaction:
        return _Transaction(self._con)

    # ------------------------------------------------------------------ crawl writes
    def begin_run(self, targets: Sequence[str], settings: dict[str, Any]) -> str:
        """Record a new crawl run and return its id (time-ordered text)."""
        now = self._clock()
        run_id = now.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
        self._con.execute("INSERT INTO crawl_runs VALUES (?, ?, NULL, 'running', ?, ?)",
                          [run_id, now, json.dumps(list(targets)), json.dumps(settings, default=str)])
        return run_id

    def finish_run(self, run_id: str, status: str) -> None:
        """Close a run (``complete``, ``partial``, ``failed``)."""
        self._con.execute("UPDATE crawl_runs SET finished_at = ?, status = ? WHERE run_id = ?",
                          [self._clock(), status, run_id])

    def upsert_merchant(self, merchant: Merchant, raw: dict[str, Any] | None = None) -> None:
        """Insert or update a merchant (``first_seen`` kept); moves the :meth:`watermark`."""
        with self._tx():
            self._upsert_merchant(merchant, raw, self._clock())
            self._bump_counter()

    def _upsert_merchant(self, merchant: Merchant, raw: dict[str, Any] | None, now: datetime) -> None:
        self._con.execute(
            f"INSERT INTO merchants VALUES ({_Q13}) ON CONFLICT (merchant_id) DO UPDATE SET "
            "platform = excluded.platform, name = excluded.name, base_url = excluded.base_url, "
            "currency = excluded.currency, country = excluded.country, ships_to = excluded.ships_to, "
            "available = excluded.available, shop_url = excluded.shop_url, raw_json = excluded.raw_json, "
            "last_seen = excluded.last_seen, origin = coalesce(merchants.origin, excluded.origin)",  # first kept
            [merchant.merchant_id, merchant.platform, merchant.name, merchant.base_url, merchant.currency,
             merchant.country, json.dumps(list(merchant.ships_to)), merchant.available, merchant.shop_url,
             json.dumps(raw, ensure_ascii=False) if raw is not None else None, now, now,
             origin_of(merchant.base_url)])

    def known_hashes(self, merchant_id: str) -> dict[str, str]:
        """doc_id → content hash of a merchant's current (not removed) products."""
        return dict(self._con.execute(
            "SELECT doc_id, content_hash FROM products WHERE merchant_id = ? AND removed_at IS NULL",
            [merchant_id]).fetchall())

    def record_error(self, run_id: str, merchant_id: str | None, target: str, url: str, status: int | None,
                     code: str, error: str) -> None:
        """Record one fault that survived the retries."""
        self._con.execute("INSERT INTO crawl_errors VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                          [run_id, merchant_id, target, url, status, code, error, self._clock()])

    def write_page(self, run_id: str, merchant: Merchant, items: Sequence[tuple[Product, str]],
                   quarantined: Sequence[Quarantined] = ()) -> PageCounts:
        """Store one page of parsed products (with their source JSON text) in one transaction.

        New products are inserted, changed ones (content hash differs, or removed earlier) are
        rewritten with history rows, unchanged ones only get ``last_seen``/``last_run_id``.
        """
        return self.write_prepared(run_id, prepare_page(merchant, items, quarantined))

    def write_prepared(self, run_id: str, page: PreparedPage, *, merchant_raw: dict[str, Any] | None = None
                       ) -> PageCounts:
        """:meth:`write_page` for a page already turned into rows by :func:`prepare_page`.

        With ``merchant_raw``, the page's merchant is upserted in the same transaction (a crawler's first
        page: no product is ever stored without its merchant, and no commit is spent on the merchant alone).
        Every page moves the :meth:`watermark`: even an unchanged product's ``last_seen`` is indexed data.
        """
        now = self._clock()
        rows = page.rows
        q_ids = [make_doc_id(page.merchant.platform, page.merchant.merchant_id, q.record_id)
                 for q in page.quarantined if q.record_id]
        with self._tx():
            if merchant_raw is not None:
                self._upsert_merchant(page.merchant, merchant_raw, now)
            seq = self._bump_counter()
            ids = list(rows)
            existing = {r[0]: (r[1], r[2]) for r in self._con.execute(
                "SELECT doc_id, content_hash, removed_at IS NOT NULL FROM products WHERE doc_id = ANY(?::VARCHAR[])",
                [ids]).fetchall()} if ids else {}
            new = [d for d in ids if d not in existing]
            changed = [d for d in ids if d in existing and (existing[d][0] != rows[d].hash or existing[d][1])]
            changed_set = set(changed)
            unchanged = [d for d in ids if d in existing and d not in changed_set] + list(page.unchanged)
            touch = unchanged + [d for d in q_ids if d not in rows]
            if touch:
                self._con.execute(
                    "UPDATE products SET last_seen = ?, last_run_id = ? WHERE doc_id = ANY(?::VARCHAR[])",
                    [now, run_id, touch])
            if new or changed:
                self._write_products(run_id, rows, new, changed, existing, now, seq)
            if page.quarantined:
                self._quarantine(run_id, page.quarantined, now)
        return PageCounts(len(new), len(changed), len(unchanged), len(page.quarantined))

    def _write_products(self, run_id: str, rows: dict[str, Rows], new: list[str], changed: list[str],
                        existing: dict[str, tuple[str, bool]], now: datetime, seq: int) -> None:
        history: list[tuple[Any, ...]] = []
        if changed:
            old: dict[str, dict[str, tuple[int | None, bool]]] = {d: {} for d in changed}
            for d, vid, price, avail in self._con.execute(
                    "SELECT doc_id, variant_id, price, available FROM variants WHERE doc_id = ANY(?::VARCHAR[])",
                    [changed]).fetchall():
                old[d][vid] = (price, avail)
            for d in changed:
                if existing[d][1]:
                    history.append((d, None, "product", "removed", "revived", run_id, now))
                history.extend(history_rows(d, rows[d].variants, old[d], run_id, now))
            for table in ("variants", "options", "variant_options", "images"):
                self._con.execute(f"DELETE FROM {table} WHERE doc_id = ANY(?::VARCHAR[])", [changed])
        stamp = [now, now, now, run_id, seq]
        vrows, orows, vorows, irows = [], [], [], []
        for d in new + changed:
            r = rows[d]
            vrows += r.variants
            orows += r.options
            vorows += r.variant_options
            irows += r.images
        if new:  # plain insert: much cheaper than an upsert
            _aisle_new = columns([rows[d].product_row for d in new])  # noqa: F841  (replacement scan)
            self._con.execute(f"INSERT INTO products SELECT *, {_STAMP} FROM _aisle_new", stamp)
        if changed:
            _aisle_changed = columns([rows[d].product_row for d in changed])  # noqa: F841
            updates = ", ".join(f"{c} = excluded.{c}" for c in PRODUCT_COLUMNS if c not in ("doc_id", "first_seen"))
            self._con.execute(f"INSERT INTO products SELECT *, {_STAMP} FROM _aisle_changed "
                              f"ON CONFLICT (doc_id) DO UPDATE SET {updates}", stamp)
        self._insert("variants", vrows)
        self._insert("options", orows)
        self._insert("variant_options", vorows)
        self._insert("images", irows)
        self._insert("history", history)

    def _quarantine(self, run_id: str, quarantined: Sequence[Quarantined], now: datetime) -> None:
        keyed = [(q.merchant_id, q.record_id) for q in quarantined if q.record_id]
        if keyed:  # keep one row per bad record: the latest reason and raw
            self._con.execute(
                "DELETE FROM quarantine WHERE merchant_id = ? AND record_id = ANY(?::VARCHAR[])",
                [keyed[0][0], [r for _, r in keyed]])
        self._insert("quarantine", [(run_id, q.merchant_id, q.record_id, q.reason, q.raw, now) for q in quarantined])

    def finish_merchant(self, run_id: str, target: str, merchant: Merchant | None, *, complete: bool,
                        started_at: datetime, counts: dict[str, int],
                        merchant_raw: dict[str, Any] | None = None) -> int:
        """Close one merchant's crawl; when ``complete``, mark products not seen in this run removed.

        With ``merchant_raw`` (a crawl that wrote no page), the merchant is upserted in the same
        transaction. Returns the number of products marked removed (0 for an incomplete crawl).
        """
        now = self._clock()
        removed = 0
        mid = merchant.merchant_id if merchant else None
        with self._tx():
            if merchant is not None and merchant_raw is not None:
                self._upsert_merchant(merchant, merchant_raw, now)
                self._bump_counter()
            if complete and merchant is not None:
                gone = [r[0] for r in self._con.execute(
                    "SELECT doc_id FROM products WHERE merchant_id = ? AND removed_at IS NULL "
                    "AND last_run_id IS DISTINCT FROM ?", [merchant.merchant_id, run_id]).fetchall()]
                if gone:
                    seq = self._bump_counter()
                    self._con.execute(
                        "UPDATE products SET removed_at = ?, changed_at = ?, change_seq = ? "
                        "WHERE doc_id = ANY(?::VARCHAR[])", [now, now, seq, gone])
                    self._insert("history", [(d, None, "product", "present", "removed", run_id, now) for d in gone])
                removed = len(gone)
            self._con.execute(
                "INSERT INTO merchant_crawls VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [run_id, mid, target, merchant.platform if merchant else None, started_at, now, complete,
                 counts.get("products", 0), counts.get("new", 0), counts.get("changed", 0),
                 counts.get("unchanged", 0), removed, counts.get("quarantined", 0), counts.get("errors", 0)])
        return removed

    def watermark(self) -> str:
        """Changes whenever data an index carries changes: ``{db_id}:{counter}``.

        That is product content or removal, a merchant row, and also ``last_seen`` (the index's
        ``crawled_at``): every stored page moves it, even when every product on it was unchanged, so
        that re-indexing after a re-crawl that found nothing new still refreshes the data's age (its
        vectors all come from the embedding cache).
        """
        return f"{self._meta('db_id')}:{self._meta('change_counter')}"

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run ad-hoc SQL (for users, tests and reports) and return all rows."""
        try:
            return self._con.execute(sql, list(params)).fetchall()
        except duckdb.Error as exc:
            raise StoreError(f"query failed: {exc}") from None


class _Transaction:
    """BEGIN … COMMIT, or ROLLBACK on any exception (re-raised; DuckDB errors become StoreError)."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con

    def __enter__(self) -> None:
        self._con.execute("BEGIN TRANSACTION")

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        if exc_type is None:
            self._con.execute("COMMIT")
            return
        self._con.execute("ROLLBACK")
        if isinstance(exc, duckdb.Error):
            raise StoreError(f"catalog write failed and was rolled back: {exc}") from exc
