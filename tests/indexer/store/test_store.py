"""The DuckDB store: round trips, change detection, history, removal rules, quarantine, locking."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import indexer.store.read as storeread
import indexer.store.store as store_mod
from indexer.crawl.parse import etsy_merchant, etsy_product, shopify_merchant, shopify_product
from indexer.errors import StoreError
from indexer.models import Product, Quarantined
from indexer.store.store import Store
from tests.indexer.fakeclock import FakeClock

META = {"name": "Test Shop", "myshopify_domain": "test-shop.myshopify.com", "domain": "test.example",
        "currency": "EUR", "country": "FR", "ships_to_countries": ["FR", "DE"]}
MERCHANT = shopify_merchant(META, "https://test.example")


def raw_product(pid: int, price: str = "10.00", available: bool = True, sizes: tuple[str, ...] = ("S", "M"),
                title: str | None = None) -> dict[str, Any]:
    return {
        "id": pid, "title": title or f"Shirt {pid}", "handle": f"shirt-{pid}", "body_html": "<p>Soft <b>cotton</b></p>",
        "vendor": "Acme", "product_type": "Shirts", "tags": ["cotton", "summer"], "updated_at": "2026-01-01T00:00:00Z",
        "options": [{"name": "Taille", "position": 1, "values": list(sizes)},
                    {"name": "Couleur", "position": 2, "values": ["Rouge"]}],
        "variants": [{"id": pid * 100 + i, "title": f"{s} / Rouge", "option1": s, "option2": "Rouge", "option3": None,
                      "sku": f"SKU-{pid}-{s}", "available": available, "price": price, "compare_at_price": None,
                      "position": i + 1} for i, s in enumerate(sizes)],
        "images": [{"src": f"https://cdn.shopify.com/s/files/{pid}.jpg"}],  # a CDN the URL policy keeps
    }


def page(*raws: dict[str, Any]) -> tuple[list[tuple[Product, str]], list[Quarantined]]:
    items, bad = [], []
    for raw in raws:
        rec = shopify_product(raw, MERCHANT)
        if isinstance(rec, Quarantined):
            bad.append(rec)
        else:
            items.append((rec, json.dumps(raw)))
    return items, bad


@pytest.fixture()
def store(tmp_path: Path):
    with Store.open(tmp_path / "catalog.duckdb") as s:
        s.upsert_merchant(MERCHANT, META)
        yield s


def write(store: Store, run: str, *raws: dict[str, Any]):
    items, bad = page(*raws)
    return store.write_page(run, MERCHANT, items, bad)


def test_round_trip_rebuilds_the_parsed_products(store: Store) -> None:
    run = store.begin_run(["t"], {})
    raws = [raw_product(i) for i in (3, 1, 2)]
    counts = write(store, run, *raws)
    assert (counts.new, counts.changed, counts.unchanged) == (3, 0, 0)
    parsed = [shopify_product(r, MERCHANT) for r in raws]
    expected = sorted((p for p in parsed if isinstance(p, Product)), key=lambda p: p.doc_id)
    assert list(store.products()) == expected
    assert store.product(expected[0].doc_id) == expected[0]
    assert store.product("shopify:nope:1") is None
    raw = store.raw_json(expected[0].doc_id)
    assert raw is not None and shopify_product(json.loads(raw), MERCHANT) == expected[0]
    assert store.merchants() == [MERCHANT]
    assert set(store.crawled_at()) == {p.doc_id for p in expected}
    # Long format options for SQL filtering: canonical attribute and normalised value.
    rows = store.query("SELECT DISTINCT name, canonical, value_norm FROM variant_options ORDER BY 1, 3")
    assert rows == [("Couleur", "color", "rouge"), ("Taille", "size", "m"), ("Taille", "size", "s")]
    assert store.query("SELECT min(price), max(price), min(currency) FROM variants") == [(1000, 1000, "EUR")]


def test_products_are_read_in_chunks_in_doc_id_order(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    run = store.begin_run(["t"], {})
    write(store, run, *(raw_product(i) for i in range(1, 8)))
    monkeypatch.setattr(storeread, "_READ_CHUNK", 3)
    got = list(store.products())
    assert [p.doc_id for p in got] == sorted(p.doc_id for p in got) and len(got) == 7
    assert all(len(p.variants) == 2 and len(p.options) == 2 and p.images for p in got)
    assert [p.product_id for p in store.products(merchant_id="other")] == []


def test_unchanged_products_are_not_rewritten(store: Store) -> None:
    run1 = store.begin_run(["t"], {})
    write(store, run1, raw_product(1), raw_product(2))
    before = store.query("SELECT doc_id, change_seq, changed_at FROM products ORDER BY 1")
    mark = store.watermark()
    run2 = store.begin_run(["t"], {})
    counts = write(store, run2, raw_product(1), raw_product(2))
    assert (counts.new, counts.changed, counts.unchanged) == (0, 0, 2)
    assert store.query("SELECT doc_id, change_seq, changed_at FROM products ORDER BY 1") == before
    assert store.watermark() != mark  # last_seen moved: the index's crawled_at must follow
    assert store.query("SELECT DISTINCT last_run_id FROM products") == [(run2,)]
    assert store.query("SELECT count(*) FROM variants") == [(4,)]


def test_changes_are_rewritten_with_history(store: Store) -> None:
    run1 = store.begin_run(["t"], {})
    write(store, run1, raw_product(1), raw_product(2), raw_product(3))
    mark = store.watermark()
    run2 = store.begin_run(["t"], {})
    counts = write(store, run2, raw_product(1, price="12.50"), raw_product(2, available=False),
                   raw_product(3, sizes=("S", "M", "L")))
    assert (counts.new, counts.changed, counts.unchanged) == (0, 3, 0)
    assert store.watermark() != mark
    hist = store.query("SELECT doc_id, variant_id, field, old, new, run_id FROM history ORDER BY 1, 2, 3")
    d = "shopify:test-shop.myshopify.com:"
    assert hist == [
        (d + "1", "100", "price", "1000", "1250", run2), (d + "1", "101", "price", "1000", "1250", run2),
        (d + "2", "200", "available", "true", "false", run2), (d + "2", "201", "available", "true", "false", run2),
        (d + "3", "302", "variant", None, "added", run2),
    ]
    p3 = store.product(d + "3")
    assert p3 is not None and [v.option_map()["Taille"] for v in p3.variants] == ["S", "M", "L"]
    run3 = store.begin_run(["t"], {})
    write(store, run3, raw_product(1, price="12.50"), raw_product(2, available=False), raw_product(3))
    assert store.query("SELECT variant_id, field, old, new FROM history WHERE run_id = ?", [run3]) == [
        ("302", "variant", "present", "removed")]
    assert store.query("SELECT count(*) FROM variants WHERE doc_id = ?", [d + "3"]) == [(2,)]


def test_only_a_complete_crawl_marks_missing_products_removed_and_they_revive(store: Store) -> None:
    run1 = store.begin_run(["t"], {})
    write(store, run1, raw_product(1), raw_product(2))
    store.finish_merchant(run1, "t", MERCHANT, complete=True, started_at=store_mod.utcnow(), counts={})
    run2 = store.begin_run(["t"], {})
    write(store, run2, raw_product(1))
    assert store.finish_merchant(run2, "t", MERCHANT, complete=False, started_at=store_mod.utcnow(), counts={}) == 0
    assert store.stats()["products"] == 2
    mark = store.watermark()
    assert store.finish_merchant(run2, "t", MERCHANT, complete=True, started_at=store_mod.utcnow(), counts={}) == 1
    assert store.watermark() != mark
    gone = "shopify:test-shop.myshopify.com:2"
    assert [p.product_id for p in store.products()] == ["1"]
    assert {p.product_id for p in store.products(include_removed=True)} == {"1", "2"}
    stats = store.stats()
    assert stats["products"] == 1 and stats["variants"] == 2 and stats["removed_products"] == 1
    assert store.query("SELECT field, old, new FROM history WHERE doc_id = ?", [gone]) == [
        ("product", "present", "removed")]
    run3 = store.begin_run(["t"], {})
    counts = write(store, run3, raw_product(1), raw_product(2))
    assert (counts.changed, counts.unchanged) == (1, 1)
    assert store.query("SELECT removed_at FROM products WHERE doc_id = ?", [gone]) == [(None,)]
    assert ("product", "removed", "revived") in store.query("SELECT field, old, new FROM history WHERE doc_id = ?",
                                                            [gone])


def test_bad_records_are_quarantined_and_the_rest_of_the_page_is_stored(store: Store) -> None:
    run = store.begin_run(["t"], {})
    bad = raw_product(5, price="twelve")
    counts = write(store, run, raw_product(4), bad, {"title": "no id"})
    assert (counts.new, counts.quarantined) == (1, 2)
    rows = store.query("SELECT record_id, reason, raw FROM quarantine ORDER BY reason")
    assert [(r[0], r[1]) for r in rows] == [(None, "missing or invalid id"), ("5", "unparseable price 'twelve'")]
    assert json.loads(rows[1][2]) == bad
    write(store, run, bad)  # the same bad record again: still one row for it
    assert store.query("SELECT count(*) FROM quarantine WHERE record_id = '5'") == [(1,)]


def test_a_product_that_turns_bad_keeps_its_last_good_version(store: Store) -> None:
    run1 = store.begin_run(["t"], {})
    write(store, run1, raw_product(1), raw_product(2))
    run2 = store.begin_run(["t"], {})
    write(store, run2, raw_product(1), raw_product(2, price="-3"))
    assert store.finish_merchant(run2, "t", MERCHANT, complete=True, started_at=store_mod.utcnow(), counts={}) == 0
    p = store.product("shopify:test-shop.myshopify.com:2")
    assert p is not None and p.variants[0].price == 1000


def test_a_failed_page_write_is_rolled_back(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    run = store.begin_run(["t"], {})
    original = Store._insert

    def failing(self: Store, table: str, rows: Any) -> None:
        if table == "variant_options":
            self._con.execute("SELECT * FROM no_such_table")
        original(self, table, rows)

    monkeypatch.setattr(Store, "_insert", failing)
    with pytest.raises(StoreError, match="rolled back"):
        write(store, run, raw_product(1))
    assert store.query("SELECT (SELECT count(*) FROM products), (SELECT count(*) FROM variants)") == [(0, 0)]
    monkeypatch.setattr(Store, "_insert", original)
    assert write(store, run, raw_product(1)).new == 1


def test_etsy_products_round_trip(tmp_path: Path) -> None:
    shop = {"shop_id": 42, "shop_name": "Clay", "currency_code": "USD", "url": "https://etsy.example/shop/clay"}
    merchant = etsy_merchant(shop, "https://openapi.etsy.com/v3/application")
    listing = {"listing_id": 7, "title": "Mug", "description": "Big\nmug", "state": "active", "quantity": 2,
               "price": {"amount": 1500, "divisor": 100, "currency_code": "USD"}, "tags": ["mug"]}
    inv = {"products": [{"product_id": 70, "sku": "M1", "offerings": [
        {"quantity": 2, "is_enabled": True, "price": {"amount": 1500, "divisor": 100, "currency_code": "USD"}}],
        "property_values": [{"property_name": "Color", "values": ["Blue"]}]}]}
    product = etsy_product(listing, inv, merchant)
    assert isinstance(product, Product)
    with Store.open(tmp_path / "c.duckdb") as s:
        s.upsert_merchant(merchant, shop)
        s.write_page(s.begin_run(["e"], {}), merchant, [(product, json.dumps({"listing": listing, "inventory": inv}))])
        assert list(s.products()) == [product]
        assert s.stats()["merchants"][0]["available_variants"] == 1


def test_stats_document(store: Store) -> None:
    run = store.begin_run(["t"], {})
    write(store, run, raw_product(1), raw_product(2, available=False))
    store.record_error(run, MERCHANT.merchant_id, "t", "https://test.example/products.json", 500, "5xx", "HTTP 500")
    store.finish_merchant(run, "t", MERCHANT, complete=False, started_at=store_mod.utcnow(), counts={"errors": 1})
    store.finish_run(run, "partial")
    doc = store.stats()
    assert doc["products"] == 2 and doc["variants"] == 4 and doc["available_variants"] == 2
    (m,) = doc["merchants"]
    assert {k: m[k] for k in ("id", "platform", "name", "products", "variants", "available_variants", "errors")} == {
        "id": "test-shop.myshopify.com", "platform": "shopify", "name": "Test Shop", "products": 2, "variants": 4,
        "available_variants": 2, "errors": 1}
    assert m["last_crawl"].endswith("Z") and m["last_crawl_complete"] is False
    assert doc["last_run"]["status"] == "partial"
    json.dumps(doc)


def test_open_errors_are_clear(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no catalog"):
        Store.open(tmp_path / "missing.duckdb", read_only=True)
    damaged = tmp_path / "damaged.duckdb"
    damaged.write_bytes(b"this is not a database" * 500)
    with pytest.raises(StoreError, match="damaged or not a DuckDB file"):
        Store.open(damaged)
    import duckdb

    other = tmp_path / "other.duckdb"
    duckdb.connect(str(other)).close()
    with pytest.raises(StoreError, match="not an aisle catalog"):
        Store.open(other, read_only=True)


def test_a_catalog_held_by_another_process_gives_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "locked.duckdb"
    Store.open(path).close()
    code = ("import sys, time; from indexer.store.store import Store; s = Store.open(sys.argv[1]); "
            "print('ready', flush=True); time.sleep(30)")
    holder = subprocess.Popen([sys.executable, "-c", code, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        with pytest.raises(StoreError, match="in use by another process"):
            Store.open(path)
        with pytest.raises(StoreError, match="in use by another process"):
            Store.open(path, read_only=True)
    finally:
        holder.kill()
        holder.wait()
    time.sleep(0.1)
    with Store.open(path, read_only=True) as s:
        assert s.stats()["products"] == 0


def test_an_unchanged_page_moves_the_watermark_but_not_the_content(tmp_path: Path) -> None:
    clock = FakeClock()
    with Store.open(tmp_path / "c.duckdb", clock=clock) as store:
        store.upsert_merchant(MERCHANT, META)
        write(store, store.begin_run(["t"], {}), raw_product(1))
        mark = store.watermark()
        content = store.query("SELECT doc_id, change_seq, changed_at, content_hash FROM products")
        seen = store.crawled_at()
        clock.advance(1.0)  # crawled_at has one-second resolution
        assert write(store, store.begin_run(["t"], {}), raw_product(1)).unchanged == 1
        assert store.watermark() != mark
        assert store.query("SELECT doc_id, change_seq, changed_at, content_hash FROM products") == content
        assert all(store.crawled_at()[d] > t for d, t in seen.items())
        assert set(store.crawled_at().values()) == {"2026-01-01T12:00:01Z"}  # every time is the clock's
        mark = store.watermark()
        assert store.stats() and store.watermark() == mark  # reading moves nothing


def test_a_first_page_stores_its_merchant_in_the_same_transaction(tmp_path: Path) -> None:
    with Store.open(tmp_path / "c.duckdb") as store:
        run = store.begin_run(["t"], {})
        items, bad = page(raw_product(1))
        broken = store_mod.prepare_page(MERCHANT, items, bad)
        row = broken.rows[items[0][0].doc_id]
        row.variants[0] = (*row.variants[0][:4], "not a price", *row.variants[0][5:])  # fails the BIGINT cast
        with pytest.raises(StoreError, match="rolled back"):
            store.write_prepared(run, broken, merchant_raw=META)
        assert store.merchants() == [] and store.query("SELECT count(*) FROM products") == [(0,)]
        mark = store.watermark()
        store.write_prepared(run, store_mod.prepare_page(MERCHANT, items, bad), merchant_raw=META)
        assert [m.merchant_id for m in store.merchants()] == [MERCHANT.merchant_id] and store.watermark() != mark
        assert json.loads(store.query("SELECT raw_json FROM merchants")[0][0]) == META


def test_a_wide_value_among_many_small_ones_keeps_its_type(store: Store) -> None:
    # Rows reach DuckDB as numpy object columns whose type DuckDB infers; every row is sampled, so a
    # BIGINT price among 5,000 small ones is stored exactly (DuckDB's default sample of 1,000 rows would
    # type the column INTEGER and fail the page).
    raw = raw_product(1, sizes=tuple(f"S{i}" for i in range(5000)))
    raw["variants"][2503]["price"] = "50000000.00"
    raw["variants"][2503]["compare_at_price"] = "60000000.00"
    assert write(store, store.begin_run(["t"], {}), raw).new == 1
    assert store.query("SELECT count(*), max(price), max(compare_at) FROM variants") == [
        (5000, 5_000_000_000, 6_000_000_000)]
    p = store.product("shopify:test-shop.myshopify.com:1")
    assert p is not None and p.variants[2503].price == 5_000_000_000 and p.variants[0].price == 1000
