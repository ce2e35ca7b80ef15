"""The memory-mapped snapshot answers exactly as the in-memory one (the CI smoke test of issue 14).

A snapshot of data/sample is built on disk (real parsers, bm25s, FAISS; a HashingEncoder for speed), opened
memory-mapped through :meth:`Engine.open` (columns written on first open, then reopened from disk), and
compared with the same parts assembled in memory: every mode, filters, near matches, buyable_only, several
items, product look-ups, live-check inputs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from indexer.build.embed import HashingEncoder
from indexer.build.index import build_index
from indexer.build.rowstore import ProductRows, SortedIds
from indexer.build.snapshot import Snapshot, load_current
from indexer.workspace import Workspace
from search.engine import Engine, EngineSettings
from search.filter.columns import COLUMNS_FORMAT, columns_dir
from search.filter.csr import Postings, TokenRows
from search.schema import Context, Filters, PriceFilter, SearchRequest
from tests.search.conftest import NOW, load_catalog

QUERIES = [
    "red wool beanie size M under $40",
    "a scarf, not black, and a red beanie",
    "hiking boots size 10",
    "cheapest navy sweater",
    "wool hat shipped to Canada",
    "gift for a runner",
    "tee size XL in grey",
    "notebook",
    "beanei",  # a typo: the speller read from disk
]


@pytest.fixture(scope="module")
def engines(sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Engine, Engine, Engine]:
    products, merchants = load_catalog(sample_dir, shopify_base=lambda s: f"https://{s}.myshopify.com",
                                       etsy_api="https://openapi.etsy.com/v3/application")
    ws = Workspace.resolve(tmp_path_factory.mktemp("home"))
    enc = HashingEncoder(64)
    crawled = {p.doc_id: "2027-01-15T08:00:00Z" for p in products}
    build_index(products, merchants, ws, encoder=enc, crawled_at=crawled, watermark="w1")
    settings = EngineSettings()
    first = Engine.open(ws, encoder=enc, settings=settings)  # writes the columns
    mapped = Engine.open(ws, encoder=enc, settings=settings)  # reads them
    snap = load_current(ws)
    memory = Engine(Snapshot.in_memory(products=tuple(snap.products), merchants=snap.merchants.values(),
                                       vectors=np.array(snap.vectors), dense=snap.dense, lexical=snap.lexical,
                                       vocabulary=snap.vocabulary, model=snap.model, crawled_at=dict(snap.crawled_at),
                                       version=snap.version, path=Path("/nonexistent")),
                    encoder=enc, settings=settings, clock=lambda: NOW)
    for eng in (first, mapped):
        eng._clock = lambda: NOW  # the fixed clock of engine tests
    return first, mapped, memory


def test_the_snapshot_opens_memory_mapped(engines: tuple[Engine, Engine, Engine]) -> None:
    _, mapped, memory = engines
    snap = mapped.snapshot
    assert isinstance(snap.products, ProductRows) and isinstance(snap.rows, SortedIds)
    assert (columns_dir(snap) / "columns.json").is_file()
    cat = mapped.catalog
    assert isinstance(cat.text_postings, Postings) and isinstance(cat.text_tokens, TokenRows)
    assert isinstance(cat.var_price.base, np.memmap)  # a plain view of the map (search.filter.csr.load_array)
    ref = memory.catalog
    for name in ("var_start", "var_row", "var_price", "var_cur", "var_available", "var_quantity", "prod_merchant",
                 "prod_gift", "prod_digital", "prod_variants_unknown"):
        assert np.array_equal(getattr(cat, name), getattr(ref, name)), name
    assert np.array_equal(cat.prod_crawled, ref.prod_crawled, equal_nan=True)
    assert cat.currencies == ref.currencies and cat.merchant_ids == ref.merchant_ids
    assert {c: sorted(v) for c, v in cat.attr_postings.items()} == {c: sorted(v) for c, v in ref.attr_postings.items()}
    for c, post in ref.attr_postings.items():
        for k, rows in post.items():
            assert np.array_equal(cat.attr_postings[c][k], rows)
    assert set(cat.text_postings) == set(ref.text_postings)
    assert [cat.text_tokens[r] for r in range(cat.n_products)] == list(ref.text_tokens)
    assert [cat.title_tokens[r] for r in range(cat.n_products)] == list(ref.title_tokens)
    for vid, vs in list(ref.variant_index.items())[:200]:
        assert cat.variant_index.get(vid) == vs
    assert cat.variant_index.get("no-such-variant", []) == []
    for i, p in enumerate(memory.snapshot.products):
        assert snap.row_of(p.doc_id) == i and snap.products[i] == p
    assert snap.row_of("shopify:nowhere:1") is None


def _requests() -> list[SearchRequest]:
    out = []
    for q in QUERIES:
        for mode in ("hybrid", "bm25", "dense"):
            out.append(SearchRequest(query=q, mode=mode, limit=20))
            out.append(SearchRequest(query=q, mode=mode, include_near=True, limit=20))
        out.append(SearchRequest(query=q, buyable_only=True, context=Context(country="CA")))
    out.append(SearchRequest(query="beanie", filters=Filters(attributes={"color": ["red"], "size": ["m"]},
                                                             price=PriceFilter(max=4000, currency="USD"))))
    out.append(SearchRequest(query="", filters=Filters(attributes={"color": ["blue"]}), include_near=True))
    out.append(SearchRequest(query="sweater", filters=Filters(vendor=["Northfield Knits"]), include_near=True))
    return out


def _answer(eng: Engine, req: SearchRequest) -> dict[str, Any]:
    out = eng.search(req).model_dump(mode="json", exclude={"took_ms"})
    out["next_cursor"] = out["next_cursor"] is not None  # signed with a per-workspace key
    return out


def test_answers_are_identical(engines: tuple[Engine, Engine, Engine]) -> None:
    first, mapped, memory = engines
    for req in _requests():
        want = _answer(memory, req)
        assert _answer(mapped, req) == want, req
        assert _answer(first, req) == want, req
    doc = memory.snapshot.products[3].doc_id
    assert mapped.get_product(doc, "GB") == memory.get_product(doc, "GB")


def test_damaged_columns_are_rebuilt(engines: tuple[Engine, Engine, Engine]) -> None:
    _, mapped, memory = engines
    meta = columns_dir(mapped.snapshot) / "columns.json"
    meta.write_text('{"format": 0}', "utf-8")  # not ours any more: rebuilt from the snapshot, then served
    eng = Engine(mapped.snapshot, encoder=mapped.encoder, clock=lambda: NOW)
    req = SearchRequest(query="red beanie", include_near=True)
    assert _answer(eng, req) == _answer(memory, req)
    assert json.loads(meta.read_text("utf-8"))["format"] == COLUMNS_FORMAT


def test_a_phrase_over_many_rows_matches_as_row_by_row() -> None:
    """TokenRows.rows_containing (vectorised, used by phrase_rows) answers as contains() row by row."""
    from search.filter.csr import SortedStrings

    rng = np.random.default_rng(0)
    rows = [rng.integers(0, 5, size=int(rng.integers(0, 12))).tolist() for _ in range(300)]
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    indptr[1:] = np.cumsum([len(r) for r in rows])
    tokens = TokenRows(SortedStrings(np.zeros(0, np.uint8), np.zeros(1, np.int64)), indptr,
                       np.array([t for r in rows for t in r], dtype=np.int32))
    pick = rng.permutation(300)[:150]
    for phrase in ([1], [1, 2], [3, 3, 0], [4, 0, 1, 2], [2] * 13):
        p = np.asarray(phrase, dtype=np.int64)
        assert tokens.rows_containing(pick, p).tolist() == [tokens.contains(int(r), p) for r in pick], phrase
    assert tokens.rows_containing(np.zeros(0, dtype=np.int64), np.asarray([1])).shape == (0,)
