"""The Parquet sink of the distributed crawl (``aisle crawl --ray --ray-sink parquet``): stage, then merge once.

With the default sink every page a crawl task parses is a call to the one DuckDB actor
(:class:`indexer.crawl.ray_crawl.StoreSink`). With this one a task's store is a :class:`StagingStore`:

* **Writes are staged.** What the store's write calls carry (a page's product, variant, option,
  variant-option and image rows, quarantined records and unchanged doc ids; faults; the merchant's finish)
  is written per merchant (per target) to Parquet files in ``<staging>/<run_id>/<key>/`` as it comes (one file
  per table, one row group per page, a ``page`` column); ``events.parquet`` (the calls in order) is written when
  that merchant's crawl finished, last, by a rename: it **seals** the folder.
* **Reads go to the sink**: the run-wide identity claim (it may link a merchant, as in a local crawl), the
  stored hashes that let unchanged records skip parsing, the store's clock.
* **One writer merges**: the sink actor replays each sealed folder with the local crawl's calls and
  transactions (:meth:`Store.write_prepared` per page, :meth:`Store.record_error`,
  :meth:`Store.finish_merchant` with the counts the replay found), as soon as the task sealed it (a call the
  task does not wait for, so the merge overlaps the crawl), and removes the folder only after the merchant's
  finish committed; after the tasks, the driver has it merge whatever is left, in the order of the targets.
  The store's tables end as after a local crawl.
* **After a crash** the next Parquet run first merges every sealed folder left by earlier runs (into their own
  run) and discards unsealed ones: those merchants were cut off mid-crawl and are crawled again; nothing whose
  crawl finished is lost. A merge cut off mid-merchant is replayed whole next time (its pages then count as
  unchanged, the rows are the same).

Staging lives beside the catalog (``<workspace>/crawl-staging``): every task must see that folder (one node,
or a shared filesystem), like the shard files of ``aisle serve --ray``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from indexer.models import Merchant, Quarantined
from indexer.store.rows import PageCounts, PreparedPage, Rows
from indexer.store.schema import PRODUCT_COLUMNS

SEAL = "events.parquet"
_S, _B, _I, _L = "string", "bool", "int32", "int64"
#: Staged tables: (name, columns with their Arrow types); every table also has ``page`` (int32) first.
TABLES: dict[str, tuple[tuple[str, str], ...]] = {
    # the products columns a page writes (up to content_hash, the last of Rows.product_row)
    "products": tuple((c, _B if c in ("gift_card", "personalization_required") else _S)
                      for c in PRODUCT_COLUMNS[: PRODUCT_COLUMNS.index("content_hash") + 1]),
    "variants": (("doc_id", _S), ("variant_id", _S), ("position", _I), ("title", _S), ("price", _L),
                 ("currency", _S), ("available", _B), ("quantity", _I), ("sku", _S), ("compare_at", _L),
                 ("options", _S)),
    "options": (("doc_id", _S), ("position", _I), ("name", _S), ("canonical", _S), ("values", _S)),
    "variant_options": (("doc_id", _S), ("variant_id", _S), ("position", _I), ("name", _S), ("canonical", _S),
                        ("value", _S), ("value_norm", _S)),
    "images": (("doc_id", _S), ("position", _I), ("src", _S)),
    "quarantine": (("merchant_id", _S), ("record_id", _S), ("reason", _S), ("raw", _S)),
    "unchanged": (("doc_id", _S),),
}


def folder_key(target: str) -> str:
    """A file-name-safe, stable folder name for one target's staged crawl."""
    return "m-" + hashlib.sha256(target.encode()).hexdigest()[:24]


def _schema(table: str) -> Any:
    import pyarrow as pa

    return pa.schema([("page", pa.int32())] + [(c, getattr(pa, t)() if t != "bool" else pa.bool_())
                                               for c, t in TABLES[table]])


def _arrow(table: str, rows: list[tuple[Any, ...]]) -> Any:
    import pyarrow as pa

    schema = _schema(table)
    cols = list(zip(*rows, strict=True)) if rows else [() for _ in schema]
    return pa.Table.from_arrays([pa.array(list(c), type=f.type) for c, f in zip(cols, schema, strict=True)],
                                schema=schema)


class _Staged:
    """One target's staged calls: each page written as one row group per table as it comes (a merchant is never
    held in memory whole); the events in memory until the finish seals the folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.events: list[tuple[str, str]] = []  # (kind, JSON payload), in call order
        self.writers: dict[str, Any] = {}  # table -> its open pyarrow ParquetWriter
        self.pages = 0

    def _rows(self, table: str, rows: list[tuple[Any, ...]]) -> None:
        import pyarrow.parquet as pq

        if table not in self.writers:
            self.folder.mkdir(parents=True, exist_ok=True)
            self.writers[table] = pq.ParquetWriter(self.folder / f"{table}.parquet", _schema(table))
        if rows:
            self.writers[table].write_table(_arrow(table, rows))

    def page(self, page: PreparedPage, merchant_raw: dict[str, Any] | None) -> None:
        k = self.pages
        self.pages += 1
        rows: dict[str, list[tuple[Any, ...]]] = {t: [] for t in TABLES}
        for r in page.rows.values():
            rows["products"].append((k, *r.product_row))
            for table, got in (("variants", r.variants), ("options", r.options),
                               ("variant_options", r.variant_options), ("images", r.images)):
                rows[table] += [(k, *x) for x in got]
        rows["quarantine"] = [(k, q.merchant_id, q.record_id, q.reason, q.raw) for q in page.quarantined]
        rows["unchanged"] = [(k, d) for d in page.unchanged]
        for table, got in rows.items():
            self._rows(table, got)
        self.events.append(("page", json.dumps({"page": k, "merchant": page.merchant.to_dict(),
                                                "merchant_raw": merchant_raw}, ensure_ascii=False)))

    def seal(self) -> None:
        """Close the tables, then write ``events.parquet`` by a rename (the seal)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        for table in TABLES:
            self._rows(table, [])  # every table has its file, empty or not
            self.writers.pop(table).close()
        tmp = self.folder / (SEAL + ".tmp")
        pq.write_table(pa.table({"kind": [k for k, _ in self.events], "payload": [p for _, p in self.events]}), tmp)
        os.replace(tmp, self.folder / SEAL)


class StagingStore:
    """What a crawl task sees as its store with the Parquet sink: writes staged, reads forwarded to the sink."""

    def __init__(self, sink: Any, folder: str, *, merge_eagerly: bool = True) -> None:
        """``merge_eagerly=False``: sealed merchants wait for the end-of-run merge (after a crash: the next run)."""
        self._sink, self._folder, self._eager = sink, Path(folder), merge_eagerly
        self._staged: dict[str, _Staged] = {}
        self._target_of: dict[str, str] = {}  # merchant id -> the target whose claim it passed (pages carry no target)

    def _ask(self, method: str, *args: Any) -> Any:
        import ray

        return ray.get(self._sink.call.remote(method, *args))

    def now(self) -> datetime:
        """The store's clock (the sink's)."""
        return self._ask("now")  # type: ignore[no-any-return]

    def known_hashes(self, merchant_id: str) -> dict[str, str]:
        """The stored hashes of a merchant's products (so unchanged records skip parsing)."""
        return self._ask("known_hashes", merchant_id)  # type: ignore[no-any-return]

    def claim_for_run(self, target: Any, merchant: Merchant) -> str | None:
        """The run-wide identity claim, at the sink (see :meth:`StoreSink.claim`)."""
        import ray

        conflict = ray.get(self._sink.claim.remote(target, merchant))
        if conflict is None:  # two targets of one merchant id in one task: the later one's pages are its own
            self._target_of[merchant.merchant_id] = target.label
        return conflict  # type: ignore[no-any-return]

    def _of(self, run_id: str, target: str) -> _Staged:
        if target not in self._staged:
            self._staged[target] = _Staged(self._folder / run_id / folder_key(target))
        return self._staged[target]

    def write_prepared(self, run_id: str, page: PreparedPage, *, merchant_raw: dict[str, Any] | None = None
                       ) -> PageCounts:
        """Stage one page. The counts are provisional (every parsed product counted new); the merge's are kept."""
        self._of(run_id, self._target_of[page.merchant.merchant_id]).page(page, merchant_raw)
        return PageCounts(len(page.rows), 0, len(page.unchanged), len(page.quarantined))

    def record_error(self, run_id: str, merchant_id: str | None, target: str, url: str, status: int | None,
                     code: str, error: str) -> None:
        """Stage one fault."""
        self._of(run_id, target).events.append(("error", json.dumps([merchant_id, url, status, code, error])))

    def finish_merchant(self, run_id: str, target: str, merchant: Merchant | None, *, complete: bool,
                        started_at: datetime, counts: dict[str, int],
                        merchant_raw: dict[str, Any] | None = None) -> int:
        """Stage the finish and seal the target's folder. Returns 0: removals are counted by the merge."""
        staged = self._of(run_id, target)
        del self._staged[target]
        staged.events.append(("finish", json.dumps({
            "target": target, "merchant": merchant.to_dict() if merchant else None, "complete": complete,
            "started_at": started_at.isoformat(), "errors": counts.get("errors", 0), "merchant_raw": merchant_raw},
            ensure_ascii=False)))
        staged.seal()
        # The sink merges it now, while the crawl goes on (not waited for: the task never blocks on a write);
        # whatever this call has not merged by the end, the driver's merge_run does (merge_target is a no-op then).
        if self._eager:
            self._sink.merge_one.remote(str(self._folder), run_id, target)
        return 0


def _read(folder: Path, table: str) -> dict[int, list[tuple[Any, ...]]]:
    import pyarrow.parquet as pq

    by_page: dict[int, list[tuple[Any, ...]]] = {}
    cols = pq.read_table(folder / f"{table}.parquet").to_pydict()
    names = list(cols)
    for row in zip(*(cols[n] for n in names), strict=True):
        by_page.setdefault(row[0], []).append(tuple(row[1:]))
    return by_page


def _pages(folder: Path) -> Iterator[tuple[int, dict[str, list[tuple[Any, ...]]]]]:
    tables = {t: _read(folder, t) for t in TABLES}
    for k in sorted(set().union(*(set(v) for v in tables.values()))):
        yield k, {t: tables[t].get(k, []) for t in TABLES}


def _prepared(merchant: Merchant, t: dict[str, list[tuple[Any, ...]]]) -> PreparedPage:
    """A staged page back as the :class:`PreparedPage` the local crawl would have written."""
    parts: dict[str, dict[str, list[tuple[Any, ...]]]] = {}
    for table in ("variants", "options", "variant_options", "images"):
        for r in t[table]:
            parts.setdefault(r[0], {}).setdefault(table, []).append(r)
    rows = {}
    for p in t["products"]:
        d, got = p[0], parts.get(p[0], {})
        rows[d] = Rows(p[-1], p, got.get("variants", []), got.get("options", []),
                       got.get("variant_options", []), got.get("images", []))
    return PreparedPage(merchant, rows, tuple(Quarantined(*q) for q in t["quarantine"]),
                        tuple(d for (d,) in t["unchanged"]))


def merge_folder(store: Any, run_id: str, target: str | None, folder: Path) -> dict[str, int]:
    """Replay one sealed folder into ``store`` (see the module docstring); the merchant's counts. Removes it after.

    ``target`` None: the one the folder was staged for (kept in its finish event, the last)."""
    import pyarrow.parquet as pq

    events = pq.read_table(folder / SEAL).to_pydict()
    if target is None:
        target = str(json.loads(events["payload"][-1])["target"])
    pages = dict(_pages(folder))
    counts = {"products": 0, "new": 0, "changed": 0, "unchanged": 0, "quarantined": 0, "errors": 0, "removed": 0}
    for kind, payload in zip(events["kind"], events["payload"], strict=True):
        e = json.loads(payload)
        if kind == "page":
            c = store.write_prepared(run_id, _prepared(Merchant.from_dict(e["merchant"]), pages.get(e["page"], {
                t: [] for t in TABLES})), merchant_raw=e["merchant_raw"])
            for k in ("new", "changed", "unchanged", "quarantined"):
                counts[k] += getattr(c, k)
            counts["products"] += c.new + c.changed + c.unchanged
        elif kind == "error":
            store.record_error(run_id, e[0], target, *e[1:])
        else:
            counts["errors"] = e["errors"]
            m = Merchant.from_dict(e["merchant"]) if e["merchant"] else None
            counts["removed"] = store.finish_merchant(
                run_id, target, m, complete=e["complete"], started_at=datetime.fromisoformat(e["started_at"]),
                counts=counts, merchant_raw=e["merchant_raw"])
    shutil.rmtree(folder)  # only now: every call above committed
    return counts


def merge_target(store: Any, staging: Path, run_id: str, target: str, into: dict[str, dict[str, int]]) -> None:
    """Merge ``target``'s folder of run ``run_id`` if it is sealed (and still there); its counts into ``into``."""
    folder = staging / run_id / folder_key(target)
    if (folder / SEAL).is_file():
        into[target] = merge_folder(store, run_id, target, folder)


def merge_run(store: Any, staging: Path, run_id: str, targets: Sequence[str],
              merged: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    """Merge what is left sealed of run ``run_id`` in the order of ``targets``, then drop the run's folder.

    ``merged`` holds the counts of the targets merged already (as their tasks sealed them); returned with the rest.
    """
    for t in targets:
        merge_target(store, staging, run_id, t, merged)
    shutil.rmtree(staging / run_id, ignore_errors=True)  # unsealed leftovers: merchants cut off mid-crawl
    return {t: merged[t] for t in targets if t in merged}


def recover(store: Any, staging: Path) -> list[str]:
    """Merge what earlier runs left sealed in ``staging`` (into their own runs), discard the rest; their run ids."""
    done = []
    for run in sorted(p for p in staging.iterdir() if p.is_dir()) if staging.is_dir() else []:
        for folder in sorted(run.iterdir()):
            if (folder / SEAL).is_file():
                merge_folder(store, run.name, None, folder)
        shutil.rmtree(run, ignore_errors=True)
        done.append(run.name)
    return done
