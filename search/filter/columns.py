"""The filter's arrays of one snapshot on disk, memory-mapped: what :class:`CatalogArrays` holds, opened in
milliseconds instead of rebuilt by a pass over the catalog at every start.

:func:`open_catalog` is the one way the engine gets a snapshot's arrays:

* a snapshot on disk (format 2) has them in ``<home>/indexes/.derived/<version>/columns/`` (written by
  :func:`prepare`, which ``aisle index`` runs right after a build, or by the first open of a version that
  has none; pruned with its version). They are ``.npy`` files and a JSON manifest (no pickle), opened with
  ``numpy.load(mmap_mode="r")``: variant arrays, attribute postings as CSR (:mod:`search.filter.csr`),
  product tokens as token ids, variant ids as a sorted lookup. Derived values the engine would otherwise
  compute by a pass over the products (the typo dictionary, the kind vocabulary) ride along in the
  manifest's ``extras``, computed by callbacks the caller passes.
* columns derived under other attribute rules (:data:`indexer.attributes.ATTRIBUTE_RULES`, e.g. by an aisle
  before composite options were split) are derived again at open, by a pass (never merged by row).
* an in-memory snapshot, a format 1 snapshot, a workspace that cannot be written (a read-only copy) or a
  columns folder written for another snapshot: :meth:`CatalogArrays.build` in memory, as before.

The answers are the same either way (``tests/search/filter/test_columns.py`` compares every mode).
Eligibility that depends on the serving process, not the snapshot (Etsy grants revoked since the build),
is applied at open: :func:`with_lapsed_grants`.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from indexer.attributes import ATTRIBUTE_RULES
from indexer.build.records import RECORDS
from indexer.build.rowstore import IDS_ROWS, IDS_SORTED, ProductRows
from indexer.models import Merchant, Product
from search.filter.catalog import CatalogArrays, parse_time
from search.filter.csr import (
    MultiLookup,
    Postings,
    SortedStrings,
    TokenRows,
    load_array,
    save_arrays,
    save_csr,
    save_postings,
    save_token_rows,
)
from search.filter.eligibility import live_grants, read_with_grant
from search.filter.merge import RowMap, first_seen, merge_csr, merge_multi, merge_token_rows, ranges

log = logging.getLogger(__name__)

COLUMNS_FORMAT = 2  # 2: the extras' tallies (tallies.json), so that the next version's columns merge by row
DERIVED_DIR = ".derived"  # = indexer.build.snapshot.DERIVED_DIR (pruned with its version there)
_VARIANT = ("var_start", "var_row", "var_price", "var_cur", "var_available", "var_quantity")
_PRODUCT = ("prod_merchant", "prod_gift", "prod_personalization", "prod_digital", "prod_variants_unknown",
            "prod_crawled")
_ROWS = ("vendor_rows", "type_rows", "merchant_rows", "platform_rows")
TALLIES = "tallies.json"


@dataclass(frozen=True)
class Extra:
    """A value the engine derives from every product, kept by row: ``tally(products)`` counts what the products
    contribute (additive over products: the next version subtracts the tally of the products that changed or
    left and adds that of the new ones, :mod:`search.filter.merge`), ``value(tally)`` is what the engine reads."""

    tally: Callable[[Sequence[Product]], Mapping[str, int]]
    value: Callable[[Mapping[str, int]], Any]


Extras = Mapping[str, Extra]
Built = tuple[CatalogArrays, np.ndarray, dict[str, Any], dict[str, dict[str, int]]]


def columns_dir(snapshot: Any) -> Path:
    """Where the columns of ``snapshot`` (on disk) live."""
    path = Path(snapshot.path)
    return path.parent / DERIVED_DIR / path.name / "columns"


def identity_of(snapshot: Any) -> str:
    """What ties a columns folder to one snapshot: its version and the sha256 of its products."""
    files = snapshot.manifest.get("files", {}) if isinstance(snapshot.manifest, dict) else {}
    return f"{snapshot.version}:{files.get('products.jsonl', {}).get('sha256', '')}"


def save_meta(folder: Path, meta: dict[str, Any], tallies: Mapping[str, Mapping[str, int]]) -> None:
    """``tallies.json``, then ``columns.json`` (last: a folder without it is not read)."""
    meta = {**meta, "attribute_rules": ATTRIBUTE_RULES}  # the option → attribute rules the postings were made by
    (folder / TALLIES).write_text(json.dumps(tallies, ensure_ascii=False, sort_keys=True), "utf-8")
    (folder / "columns.json").write_text(json.dumps(meta, ensure_ascii=False), "utf-8")


def save_columns(cat: CatalogArrays, folder: Path, *, grant: np.ndarray, identity: str,
                 extras: Mapping[str, Any], tallies: Mapping[str, Mapping[str, int]]) -> None:
    """Write ``cat`` as arrays into ``folder`` (created) and ``columns.json`` last."""
    folder.mkdir(parents=True)
    arrays = {k: getattr(cat, k) for k in _VARIANT + _PRODUCT}
    save_arrays(folder, "cat", grant=grant, **arrays)
    canon = sorted(cat.attr_postings)
    for i, c in enumerate(canon):
        save_postings(folder, f"attr{i}", cat.attr_postings[c])
    has = sorted(cat.prod_has_attr)
    for i, c in enumerate(has):
        save_arrays(folder, f"has{i}", mask=cat.prod_has_attr[c])
    for name in ("text_postings", "title_postings", *_ROWS):
        save_postings(folder, name, getattr(cat, name))
    for name, vocab in (("text_tokens", cat.text_postings), ("title_tokens", cat.title_postings)):
        save_token_rows(folder, name, getattr(cat, name), SortedStrings.encode(list(vocab))[0])
    save_arrays(folder, "variant_index", **MultiLookup.arrays(cat.variant_index))
    meta = {"format": COLUMNS_FORMAT, "snapshot": identity, "products": cat.n_products,
            "variants": cat.n_variants, "currencies": cat.currencies, "merchant_ids": cat.merchant_ids,
            "attributes": canon, "has_attribute": has, "extras": dict(extras)}
    save_meta(folder, meta, tallies)


def load_columns(folder: Path, products: Sequence[Product], merchants: Mapping[str, Merchant],
                 identity: str) -> tuple[CatalogArrays, np.ndarray, dict[str, Any]]:
    """``(arrays, grant mask, extras)`` memory-mapped from ``folder``; ValueError when it is not ours."""
    meta = json.loads((folder / "columns.json").read_text("utf-8"))
    if meta.get("format") != COLUMNS_FORMAT or meta.get("snapshot") != identity:
        raise ValueError(f"{folder} holds columns {meta.get('format')} of {meta.get('snapshot')}")
    if meta.get("attribute_rules", "1") != ATTRIBUTE_RULES:  # derived by other rules: derive again (no merge)
        raise ValueError(f"{folder} was derived by attribute rules {meta.get('attribute_rules', '1')}")
    if meta.get("products") != len(products):
        raise ValueError(f"{folder} has {meta.get('products')} products, the snapshot {len(products)}")
    arr: dict[str, Any] = {k: load_array(folder, "cat", k) for k in _VARIANT + _PRODUCT}
    arr.update({name: Postings.load(folder, name) for name in _ROWS})
    text, title = Postings.load(folder, "text_postings"), Postings.load(folder, "title_postings")
    cat = CatalogArrays(
        products=products, merchants=dict(merchants), currencies=list(meta["currencies"]),
        attr_postings={c: Postings.load(folder, f"attr{i}") for i, c in enumerate(meta["attributes"])},
        prod_has_attr={c: load_array(folder, f"has{i}", "mask") for i, c in enumerate(meta["has_attribute"])},
        text_postings=text, title_postings=title,
        text_tokens=TokenRows.load(folder, "text_tokens", text.keys_sorted),
        title_tokens=TokenRows.load(folder, "title_tokens", title.keys_sorted),
        merchant_ids=list(meta["merchant_ids"]), variant_index=MultiLookup.load(folder, "variant_index"),
        **arr,
    )
    return cat, load_array(folder, "cat", "grant"), dict(meta.get("extras") or {})


def _build(snapshot: Any, extras: Extras) -> Built:
    rows = tuple(snapshot.products)  # every product decoded once for all the passes below, then let go
    cat = CatalogArrays.build(rows, snapshot.merchants, snapshot.crawled_at)
    grant = np.fromiter((read_with_grant(p) for p in rows), dtype=bool, count=cat.n_products)
    tallies = {k: dict(e.tally(rows)) for k, e in extras.items()}
    values = {k: extras[k].value(t) for k, t in tallies.items()}
    return replace(cat, products=snapshot.products), grant, values, tallies


def prepare(snapshot: Any, extras: Extras) -> tuple[CatalogArrays, np.ndarray, dict[str, Any]]:
    """The arrays of ``snapshot`` memory-mapped from its columns folder, written first when missing.

    Falls back to building in memory (see the module docstring); never fails for want of a cache.
    """
    if not Path(snapshot.path).is_dir() or snapshot.manifest.get("format", 1) < 2:
        return _build(snapshot, extras)[:3]
    folder, identity = columns_dir(snapshot), identity_of(snapshot)
    try:
        return load_columns(folder, snapshot.products, snapshot.merchants, identity)
    except FileNotFoundError:
        pass
    except (OSError, ValueError, KeyError) as exc:
        log.warning("columns of snapshot %s unusable (%s): rebuilding them", snapshot.version, exc)
    tmp = folder.parent / f".tmp-columns-{os.getpid()}"
    built: Built | None = None
    try:
        shutil.rmtree(tmp, ignore_errors=True)
        if not _merged(snapshot, tmp, identity, extras):  # by row from the previous version's, else a pass
            shutil.rmtree(tmp, ignore_errors=True)
            built = _build(snapshot, extras)
            save_columns(built[0], tmp, grant=built[1], identity=identity, extras=built[2], tallies=built[3])
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(tmp, folder)
        return load_columns(folder, snapshot.products, snapshot.merchants, identity)
    except OSError as exc:  # a read-only workspace: serve from memory
        log.warning("cannot write the columns of snapshot %s (%s): serving from memory", snapshot.version, exc)
        shutil.rmtree(tmp, ignore_errors=True)
        return (built or _build(snapshot, extras))[:3]


def with_lapsed_grants(cat: CatalogArrays, grant: np.ndarray, tokens_home: str | None) -> CatalogArrays:
    """``cat`` with the read time of products read under an Etsy grant no longer connected made unknown
    (the rule of :func:`search.filter.eligibility.lapsed_grants_unread`, as a mask)."""
    live = live_grants(tokens_home)
    if live is None or not grant.any():
        return cat
    ids = np.asarray(cat.merchant_ids + [""], dtype=object)
    lapsed = grant & ~np.isin(ids[cat.prod_merchant], list(live))
    if not lapsed.any():
        return cat
    crawled = np.array(cat.prod_crawled, dtype=np.float64)  # a private copy: the map is read-only
    crawled[lapsed] = np.nan
    return replace(cat, prod_crawled=crawled)


def open_catalog(snapshot: Any, *, tokens_home: str | None, extras: Extras) -> tuple[CatalogArrays, dict[str, Any]]:
    """The engine's arrays of ``snapshot`` and the ``extras`` values (see the module docstring)."""
    cat, grant, values = prepare(snapshot, extras)
    return with_lapsed_grants(cat, grant, tokens_home), values


def _merged(snapshot: Any, folder: Path, identity: str, extras: Extras) -> bool:
    try:
        return merge_columns(snapshot, folder, identity, extras)
    except OSError:
        raise
    except Exception:  # a derived cache: whatever went wrong, the pass over the catalog still gives the columns
        log.exception("merging the columns of snapshot %s failed: building them by a pass", snapshot.version)
        return False


def _row_map(new: Path, old: Path, n_old: int) -> np.ndarray | None:
    """The old row of each new row whose record is unchanged (same doc_id, same ``records.npy`` hash), else -1;
    None when either snapshot lacks what it takes to tell."""
    try:
        rec_new, rec_old = (np.load(f / RECORDS, allow_pickle=False) for f in (new, old))
        kn, rn = (np.load(new / f, allow_pickle=False) for f in (IDS_SORTED, IDS_ROWS))
        ko, ro = (np.load(old / f, allow_pickle=False) for f in (IDS_SORTED, IDS_ROWS))
    except (OSError, ValueError):
        return None
    if len(ro) != n_old or rec_old.shape[0] != n_old or rec_new.shape[0] != len(rn):
        return None
    out = np.full(len(rn), -1, dtype=np.int64)
    if not len(ko) or not len(kn):
        return out
    pos = np.minimum(np.searchsorted(ko, kn), len(ko) - 1)
    hit = ko[pos] == kn
    new_rows, old_rows = rn[hit], ro[pos[hit]]
    same = rec_new[new_rows, 0] == rec_old[old_rows, 0]
    out[new_rows[same]] = old_rows[same]
    return out


def _previous(snapshot: Any, extras: Extras) -> tuple[CatalogArrays, np.ndarray, dict[str, Any], np.ndarray] | None:
    """``(columns, grant, tallies, old row of each new row)`` of the version before ``snapshot``, when usable."""
    prev = snapshot.manifest.get("previous")
    if not prev:
        return None
    new_dir = Path(snapshot.path)
    old_dir, old_cols = new_dir.parent / prev, new_dir.parent / DERIVED_DIR / prev / "columns"
    try:
        manifest = json.loads((old_dir / "manifest.json").read_text("utf-8"))
        ident = identity_of(SimpleNamespace(version=prev, manifest=manifest))
        old, grant, _ = load_columns(old_cols, ProductRows.open(old_dir), {}, ident)
        tallies = json.loads((old_cols / TALLIES).read_text("utf-8"))
    except (OSError, ValueError, KeyError):
        return None
    old_of_new = _row_map(new_dir, old_dir, old.n_products) if set(tallies) == set(extras) else None
    if old_of_new is None:
        return None
    kept = np.flatnonzero(old_of_new >= 0)  # a merchant unknown then may be known now: that row is built again
    old_of_new[kept[np.asarray(old.prod_merchant)[old_of_new[kept]] < 0]] = -1
    return old, grant, tallies, old_of_new


def merge_columns(snapshot: Any, folder: Path, identity: str, extras: Extras) -> bool:
    """Write the columns of ``snapshot`` into ``folder`` from the previous version's, by row: only the products
    whose record changed (or that are new) are read and built, and the extras' tallies are adjusted by the
    products that changed or left (:class:`Extra`). The files are those a pass over the catalog writes
    (``tests/search/filter/test_incremental.py``). False (nothing written) when the previous version's columns
    are missing or of another format, or more than half of the rows changed: then a pass is as cheap."""
    prev = _previous(snapshot, extras)
    if prev is None or int((prev[3] < 0).sum()) * 2 > len(prev[3]):
        return False
    old, old_grant, tallies, old_of_new = prev
    n = len(old_of_new)
    fresh = np.flatnonzero(old_of_new < 0)
    fresh_products = [snapshot.products[int(i)] for i in fresh]
    small = CatalogArrays.build(fresh_products, snapshot.merchants, {})
    row_old = np.full(old.n_products, -1, dtype=np.int64)
    row_old[old_of_new[old_of_new >= 0]] = np.flatnonzero(old_of_new >= 0)
    rows = RowMap(row_old, fresh, n)
    arrays, vmap, currencies = _variant_arrays(old, small, old_of_new, fresh)
    merchant_ids = sorted(snapshot.merchants)
    at = {m: i for i, m in enumerate(merchant_ids)}
    m_map = np.asarray([at.get(m, -1) for m in old.merchant_ids] + [-1], dtype=np.int32)
    arrays["prod_merchant"] = rows.gather(m_map[np.asarray(old.prod_merchant)], small.prod_merchant, np.int32)
    for name in ("prod_gift", "prod_personalization", "prod_digital", "prod_variants_unknown"):
        arrays[name] = rows.gather(getattr(old, name), getattr(small, name), bool)
    ids = snapshot.rows.in_row_order() if hasattr(snapshot.rows, "in_row_order") else list(snapshot.rows)
    arrays["prod_crawled"] = np.fromiter((parse_time(snapshot.crawled_at.get(d)) for d in ids), np.float64, n)
    grant = rows.gather(old_grant, np.fromiter((read_with_grant(p) for p in fresh_products), bool, len(fresh)), bool)
    gone = [ProductRows.open(Path(snapshot.path).parent / snapshot.manifest["previous"])[int(j)]
            for j in np.flatnonzero(row_old < 0)]
    values, new_tallies = _tallies(extras, tallies, gone, fresh_products)
    folder.mkdir(parents=True)
    save_arrays(folder, "cat", grant=grant, **{k: arrays[k] for k in _VARIANT + _PRODUCT})
    meta = _save_merged(folder, old, small, rows, vmap, fresh, old_of_new)
    save_meta(folder, {"format": COLUMNS_FORMAT, "snapshot": identity, "products": n,
                       "variants": int(arrays["var_start"][-1]), "currencies": currencies,
                       "merchant_ids": merchant_ids, **meta, "extras": values}, new_tallies)
    return True


def _variant_arrays(old: CatalogArrays, small: CatalogArrays, old_of_new: np.ndarray,
                    fresh: np.ndarray) -> tuple[dict[str, np.ndarray], RowMap, list[str]]:
    """The variant arrays of the new rows, where each old and fresh variant went, and the currencies."""
    kept_new = np.flatnonzero(old_of_new >= 0)
    kept_old = old_of_new[kept_new]
    old_start = np.asarray(old.var_start)
    old_cnt, small_cnt = np.diff(old_start), np.diff(small.var_start)
    counts = np.zeros(len(old_of_new), dtype=np.int64)
    counts[kept_new], counts[fresh] = old_cnt[kept_old], small_cnt
    start = np.zeros(len(old_of_new) + 1, dtype=np.int64)
    start[1:] = np.cumsum(counts)
    var_old = np.full(old.n_variants, -1, dtype=np.int64)
    var_old[ranges(old_start[kept_old], old_cnt[kept_old])] = ranges(start[kept_new], old_cnt[kept_old])
    vmap = RowMap(var_old, ranges(start[fresh], small_cnt), int(start[-1]))
    arrays = {"var_start": start, "var_row": np.repeat(np.arange(len(old_of_new), dtype=np.int64), counts)}
    for name, dtype in (("var_price", np.int64), ("var_available", bool), ("var_quantity", np.int64)):
        arrays[name] = vmap.gather(getattr(old, name), getattr(small, name), dtype)
    union = list(old.currencies) + [c for c in small.currencies if c not in old.currencies]
    at = {c: i for i, c in enumerate(union)}
    codes = vmap.gather(np.asarray([at[c] for c in old.currencies], dtype=np.int64)[np.asarray(old.var_cur)],
                        np.asarray([at[c] for c in small.currencies], dtype=np.int64)[small.var_cur], np.int64)
    order, arrays["var_cur"] = first_seen(codes, len(union))
    return arrays, vmap, [union[i] for i in order.tolist()]


def _tallies(extras: Extras, tallies: Mapping[str, Mapping[str, int]], gone: Sequence[Product],
             fresh: Sequence[Product]) -> tuple[dict[str, Any], dict[str, dict[str, int]]]:
    """The extras' values and tallies: the old tallies less the products that changed or left, plus the fresh."""
    values, out = {}, {}
    for k, e in extras.items():
        t = dict(tallies[k])
        for w, c in e.tally(gone).items():
            t[w] = t.get(w, 0) - c
        for w, c in e.tally(fresh).items():
            t[w] = t.get(w, 0) + c
        out[k] = {w: c for w, c in t.items() if c > 0}
        values[k] = e.value(out[k])
    return values, out


def _save_merged(folder: Path, old: CatalogArrays, small: CatalogArrays, rows: RowMap, vmap: RowMap,
                 fresh: np.ndarray, old_of_new: np.ndarray) -> dict[str, Any]:
    """Postings, masks, token rows and the variant lookup of the new rows; the meta fields they determine."""
    empty: tuple[list[str], np.ndarray, np.ndarray] = ([], np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int64))
    attrs = {}
    for c in sorted(set(old.attr_postings) | set(small.attr_postings), key=lambda k: k):
        post = old.attr_postings.get(c)
        got = merge_csr(post.csr() if isinstance(post, Postings) else empty, small.attr_postings.get(c, {}), vmap)
        if got[0]:
            attrs[c] = got
    for i, c in enumerate(sorted(attrs)):
        save_csr(folder, f"attr{i}", *attrs[c])
    has = {}
    for c in set(old.prod_has_attr) | set(small.prod_has_attr):
        o, f = old.prod_has_attr.get(c), small.prod_has_attr.get(c)
        mask = rows.gather(o if o is not None else np.zeros(old.n_products, dtype=bool),
                           f if f is not None else np.zeros(len(fresh), dtype=bool), bool)
        if mask.any():
            has[c] = mask
    for i, c in enumerate(sorted(has)):
        save_arrays(folder, f"has{i}", mask=has[c])
    kept_new = np.flatnonzero(old_of_new >= 0)
    for name in ("text_postings", "title_postings", *_ROWS):
        before = getattr(old, name).csr()
        got = merge_csr(before, getattr(small, name), rows)
        save_csr(folder, name, *got)
        tokens = {"text_postings": "text_tokens", "title_postings": "title_tokens"}.get(name)
        if tokens:
            indptr, ids = merge_token_rows(getattr(old, tokens).csr(), before[0], old_of_new[kept_new], kept_new,
                                           fresh, getattr(small, tokens), got[0], len(old_of_new))
            save_arrays(folder, tokens, indptr=indptr, ids=ids)
    keys, values = merge_multi(old.variant_index.csr(), small.variant_index, vmap)  # type: ignore[attr-defined]
    save_arrays(folder, "variant_index", keys=keys, values=values)
    return {"attributes": sorted(attrs), "has_attribute": sorted(has)}
