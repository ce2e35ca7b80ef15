"""Merchant identity in the store: the first origin is kept, links are explicit, old catalogs fall back to base_url."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from indexer.errors import NotFoundError
from indexer.models import Merchant
from indexer.store.store import Store

M = Merchant(merchant_id="a.myshopify.com", platform="shopify", name="A", base_url="https://a.example/",
             currency="USD", ships_to=("US",), available=True, shop_url=None)


def test_first_origin_is_kept_and_others_conflict(tmp_path: Path) -> None:
    with Store.open(tmp_path / "c.duckdb") as store:
        assert store.identity_conflict(M.merchant_id, "https://anyone.example") is None  # a new id
        store.upsert_merchant(M, {})
        store.upsert_merchant(dataclasses.replace(M, base_url="https://b.example"), {})
        assert store.merchant_origin(M.merchant_id) == "https://a.example"
        assert store.identity_conflict(M.merchant_id, "HTTPS://A.example:443") is None
        assert "first crawled from https://a.example" in (store.identity_conflict(M.merchant_id, "https://c.example")
                                                          or "")
        store.link_merchant(M.merchant_id, "https://c.example/", now=store.now())
        store.link_merchant(M.merchant_id, "https://c.example", now=store.now())  # idempotent
        assert store.identity_conflict(M.merchant_id, "https://c.example") is None
        assert store.merchant_links(M.merchant_id) == ["https://c.example"]
        with pytest.raises(NotFoundError):
            store.link_merchant("nobody", "https://c.example", now=store.now())


def test_a_catalog_from_before_identity_uses_the_base_url(tmp_path: Path) -> None:
    with Store.open(tmp_path / "c.duckdb") as store:
        store.upsert_merchant(M, {})
        store.query("UPDATE merchants SET origin = NULL")
    with Store.open(tmp_path / "c.duckdb") as store:
        assert store.merchant_origin(M.merchant_id) == "https://a.example"
        assert store.identity_conflict(M.merchant_id, "https://evil.example") is not None
        store.upsert_merchant(M, {})
        assert store.query("SELECT origin FROM merchants") == [("https://a.example",)]


def test_a_merchant_without_a_usable_url_is_stored_and_compared(tmp_path: Path) -> None:
    with Store.open(tmp_path / "c.duckdb") as store:
        store.upsert_merchant(dataclasses.replace(M, base_url=""), {})
        assert store.merchant_origin(M.merchant_id) is None
        assert store.identity_conflict(M.merchant_id, "https://a.example") is None
        store.upsert_merchant(dataclasses.replace(M, merchant_id="b", base_url="not a url"), {})
        assert store.merchant_origin("b") == "not a url"
        assert store.identity_conflict("b", "https://a.example") is not None
