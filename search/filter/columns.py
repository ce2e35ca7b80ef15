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
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from indexer.models import Merchant, Product
from search.filter.catalog import CatalogArrays
from search.filter.csr import (
    MultiLookup,
    Postings,
    SortedStrings,
    TokenRows,
    load_array,
    save_arrays,
    save_postings,
    save_token_rows,
)
from search.filter.eligibility import live_grants, read_with_grant

log = logging.getLogger(__name__)

COLUMNS_FORMAT = 1
DERIVED_DIR = ".derived"  # = indexer.build.snapshot.DERIVED_DIR (pruned with its version there)
_VARIANT = ("var_start", "var_row", "var_price", "var_cur", "var_available", "var_quantity")
_PRODUCT = ("prod_merchant", "prod_gift", "prod_personalization", "prod_digital", "prod_variants_unknown",
            "prod_crawled")
_ROWS = ("vendor_rows", "type_rows", "merchant_rows", "platform_rows")
Extras = Mapping[str, Callable[[CatalogArrays], Any]]


def columns_dir(snapshot: Any) -> Path:
    """Where the columns of ``snapshot`` (on disk) live."""
    path = Path(snapshot.path)
    return path.parent / DERIVED_DIR / path.name / "columns"


def _identity(snapshot: Any) -> str:
    """What ties a columns folder to one snapshot: its version and the sha256 of its products."""
    files = snapshot.manifest.get("files", {}) if isinstance(snapshot.manifest, dict) else {}
    return f"{snapshot.version}:{files.get('products.jsonl', {}).get('sha256', '')}"


def save_columns(cat: CatalogArrays, folder: Path, *, grant: np.ndarray, identity: str,
                 extras: Mapping[str, Any]) -> None:
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
    (folder / "columns.json").write_text(json.dumps(meta, ensure_ascii=False), "utf-8")


def load_columns(folder: Path, products: Sequence[Product], merchants: Mapping[str, Merchant],
                 identity: str) -> tuple[CatalogArrays, np.ndarray, dict[str, Any]]:
    """``(arrays, grant mask, extras)`` memory-mapped from ``folder``; ValueError when it is not ours."""
    meta = json.loads((folder / "columns.json").read_text("utf-8"))
    if meta.get("format") != COLUMNS_FORMAT or meta.get("snapshot") != identity:
        raise ValueError(f"{folder} holds columns {meta.get('format')} of {meta.get('snapshot')}")
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


def _build(snapshot: Any, extras: Extras) -> tuple[CatalogArrays, np.ndarray, dict[str, Any]]:
    rows = tuple(snapshot.products)  # every product decoded once for all the passes below, then let go
    cat = CatalogArrays.build(rows, snapshot.merchants, snapshot.crawled_at)
    grant = np.fromiter((read_with_grant(p) for p in rows), dtype=bool, count=cat.n_products)
    values = {k: f(cat) for k, f in extras.items()}
    return replace(cat, products=snapshot.products), grant, values


def prepare(snapshot: Any, extras: Extras) -> tuple[CatalogArrays, np.ndarray, dict[str, Any]]:
    """The arrays of ``snapshot`` memory-mapped from its columns folder, written first when missing.

    Falls back to building in memory (see the module docstring); never fails for want of a cache.
    """
    if not Path(snapshot.path).is_dir() or snapshot.manifest.get("format", 1) < 2:
        return _build(snapshot, extras)
    folder, identity = columns_dir(snapshot), _identity(snapshot)
    try:
        return load_columns(folder, snapshot.products, snapshot.merchants, identity)
    except FileNotFoundError:
        pass
    except (OSError, ValueError, KeyError) as exc:
        log.warning("columns of snapshot %s unusable (%s): rebuilding them", snapshot.version, exc)
    built = _build(snapshot, extras)
    tmp = folder.parent / f".tmp-columns-{os.getpid()}"
    try:
        shutil.rmtree(tmp, ignore_errors=True)
        save_columns(built[0], tmp, grant=built[1], identity=identity, extras=built[2])
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(tmp, folder)
        return load_columns(folder, snapshot.products, snapshot.merchants, identity)
    except OSError as exc:  # a read-only workspace: serve from memory
        log.warning("cannot write the columns of snapshot %s (%s): serving from memory", snapshot.version, exc)
        shutil.rmtree(tmp, ignore_errors=True)
        return built


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
