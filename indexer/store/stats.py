"""Catalog statistics (the ``aisle stats --json`` document), mixed into :class:`indexer.store.store.Store`
(which owns the connection; split off to keep each module small).

Each merchant's row carries ``last_error``: the last fault recorded in its latest crawl (``crawl_errors``:
``{"url", "status", "code", "message", "at"}``; null when that crawl had none). A target that never answered
as a merchant (a 404 store, an unknown Etsy shop) has no ``merchants`` row: it is listed too, with ``id``
null and its ``target``, while its latest crawl still failed, so a crawl error is never invisible.
Error messages are stored as the crawler wrote them (they may quote a merchant's answer): they go out
through :func:`indexer.sanitise.plain_text`, cut to :data:`MAX_ERROR_CHARS`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from indexer.sanitise import plain_text
from indexer.store.rows import iso

MAX_ERROR_CHARS = 300

_MERCHANTS_SQL = """
    WITH p AS (SELECT merchant_id, count(*) AS n FROM products WHERE removed_at IS NULL GROUP BY 1),
    v AS (SELECT pr.merchant_id, count(*) AS n, count(*) FILTER (WHERE v.available) AS a
          FROM variants v JOIN products pr USING (doc_id) WHERE pr.removed_at IS NULL GROUP BY 1),
    mc AS (SELECT merchant_id, run_id, finished_at, complete,
           row_number() OVER (PARTITION BY merchant_id ORDER BY finished_at DESC) AS k FROM merchant_crawls),
    e AS (SELECT merchant_id, run_id, count(*) AS n FROM crawl_errors GROUP BY 1, 2)
    SELECT m.merchant_id, m.platform, m.name, coalesce(p.n, 0), coalesce(v.n, 0), coalesce(v.a, 0),
           mc.finished_at, mc.complete, coalesce(e.n, 0), mc.run_id
    FROM merchants m LEFT JOIN p USING (merchant_id) LEFT JOIN v USING (merchant_id)
    LEFT JOIN mc ON mc.merchant_id = m.merchant_id AND mc.k = 1
    LEFT JOIN e ON e.merchant_id = m.merchant_id AND e.run_id = mc.run_id
    ORDER BY m.platform, m.merchant_id"""

# Targets whose latest crawl found no merchant (merchant_id null) and that no merchant row speaks for.
_UNREACHED_SQL = """
    WITH t AS (SELECT target, merchant_id, run_id, finished_at, errors,
               row_number() OVER (PARTITION BY target ORDER BY finished_at DESC) AS k FROM merchant_crawls)
    SELECT target, run_id, finished_at, errors FROM t WHERE k = 1 AND merchant_id IS NULL ORDER BY target"""


def error_record(url: str | None, status: int | None, code: str | None, message: str | None,
                 at: Any = None) -> dict[str, Any]:
    """One crawl fault as ``aisle crawl --json`` and ``aisle stats --json`` show it (sanitised, cut short)."""
    return {"url": plain_text(url or ""), "status": status, "code": code,
            "message": plain_text(message or "")[:MAX_ERROR_CHARS], "at": iso(at) if at is not None else None}


def _error(row: tuple[Any, ...] | None) -> dict[str, Any] | None:
    return None if row is None else error_record(*row)


class CatalogStats:
    """:meth:`stats` over ``self._con`` (set by :class:`indexer.store.store.Store`)."""

    _con: duckdb.DuckDBPyConnection
    path: Path

    def _last_error(self, run_id: str | None, column: str, value: str) -> dict[str, Any] | None:
        if run_id is None:
            return None
        return _error(self._con.execute(
            f"SELECT url, status, code, error, \"at\" FROM crawl_errors WHERE run_id = ? AND {column} = ? "
            "ORDER BY \"at\" DESC LIMIT 1", [run_id, value]).fetchone())

    def _merchant_rows(self) -> list[dict[str, Any]]:
        rows = []
        for mid, platform, name, products, variants, avail, last_crawl, complete, errors, run_id in self._con.execute(
                _MERCHANTS_SQL).fetchall():
            rows.append({"id": mid, "platform": platform, "name": name, "products": products, "variants": variants,
                         "available_variants": avail, "last_crawl": iso(last_crawl),
                         "last_crawl_complete": complete, "errors": errors,
                         "last_error": self._last_error(run_id, "merchant_id", mid) if errors else None})
        for target, run_id, finished, errors in self._con.execute(_UNREACHED_SQL).fetchall():
            rows.append({"id": None, "target": target, "platform": "etsy" if target.startswith("etsy:") else "shopify",
                         "name": None, "products": 0, "variants": 0, "available_variants": 0,
                         "last_crawl": iso(finished), "last_crawl_complete": False, "errors": errors,
                         "last_error": self._last_error(run_id, "target", target)})
        return rows

    def stats(self) -> dict[str, Any]:
        """Catalog statistics (removed products not counted); the ``aisle stats --json`` document."""
        q = self._con.execute
        merchants = self._merchant_rows()
        removed, quarantined, runs, errors = q(
            "SELECT (SELECT count(*) FROM products WHERE removed_at IS NOT NULL), (SELECT count(*) FROM quarantine), "
            "(SELECT count(*) FROM crawl_runs), (SELECT count(*) FROM crawl_errors)").fetchone() or (0, 0, 0, 0)
        last = q("SELECT run_id, status, started_at, finished_at FROM crawl_runs ORDER BY started_at DESC LIMIT 1"
                 ).fetchone()
        return {
            "products": sum(m["products"] for m in merchants),
            "variants": sum(m["variants"] for m in merchants),
            "available_variants": sum(m["available_variants"] for m in merchants),
            "removed_products": removed, "quarantined": quarantined, "crawl_runs": runs, "errors_total": errors,
            "last_run": None if last is None else {"run_id": last[0], "status": last[1], "started_at": iso(last[2]),
                                                   "finished_at": iso(last[3])},
            "watermark": self.watermark(), "path": str(self.path), "merchants": merchants,
        }

    def watermark(self) -> str:  # pragma: no cover - Store's own watermark() wins (it comes first in the MRO)
        raise NotImplementedError
