"""UCP ``lookup_catalog`` and ``get_product`` over a real server and engine: every answer validates against
``catalog_lookup.json`` (``$defs/lookup_response``, ``$defs/get_product_response``) or ``error_response``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from search.engine import Engine
from search.serve.http import create_app
from search.serve.ucp_lookup import MAX_LOOKUP_IDS
from tests.search.apiworld import running_api, schema_errors, ucp_validator
from tests.search.conftest import make_engine, merchant, product, variant

BEANIE = "shopify:knits.myshopify.com:1"
SCARF = "shopify:knits.myshopify.com:2"


@pytest.fixture(scope="module")
def engine() -> Engine:
    m = merchant("knits.myshopify.com", ships_to=("US", "CA"))
    red_m = variant({"Color": "Red", "Size": "M"}, price=3400, vid="11", available=False)
    red_l = variant({"Color": "Red", "Size": "L"}, price=3600, vid="12")
    blue_m = variant({"Color": "Blue", "Size": "M"}, price=3400, vid="13")
    scarf = variant({"Color": "Grey"}, price=5000, vid="21")
    scarf = type(scarf)(**{**{f: getattr(scarf, f) for f in scarf.__slots__}, "sku": "SCARF-GREY"})
    return make_engine([product("Wool Beanie", [red_m, red_l, blue_m], m=m, pid="1"),
                        product("Wool Scarf", [scarf], m=m, pid="2")], [m])


@pytest.fixture(scope="module")
def client(engine: Engine) -> Iterator[httpx.Client]:
    with running_api(create_app(engine=engine, refresh_interval=0)) as base:
        with httpx.Client(base_url=base, trust_env=False, timeout=30) as c:
            yield c


def _post(client: httpx.Client, path: str, body: dict[str, Any], schema: str) -> dict[str, Any]:
    resp = client.post(path, json=body)
    assert resp.status_code == 200, resp.text
    doc = resp.json()
    assert schema_errors(ucp_validator(schema), doc) == []
    return doc


LOOKUP = "shopping/catalog_lookup.json#/$defs/lookup_response"
PRODUCT = "shopping/catalog_lookup.json#/$defs/get_product_response"


def test_lookup_by_product_variant_and_sku(client: httpx.Client) -> None:
    doc = _post(client, "/ucp/catalog/lookup", {"ids": [BEANIE, "13", "SCARF-GREY", "nope"],
                                                "context": {"address_country": "CA"}}, LOOKUP)
    assert [p["id"] for p in doc["products"]] == [BEANIE, SCARF]
    beanie, scarf = doc["products"]
    # The product id stands for its featured variant: 11 is out of stock, so 12 (the first buyable one).
    assert {v["id"]: v["inputs"] for v in beanie["variants"]} == {
        "12": [{"id": BEANIE, "match": "featured"}], "13": [{"id": "13", "match": "exact"}]}
    assert beanie["variants"][0]["id"] == "12" and beanie["variants"][0]["price"] == {"amount": 3600,
                                                                                     "currency": "USD"}
    assert scarf["variants"][0]["inputs"] == [{"id": "SCARF-GREY", "match": "exact"}]
    assert beanie["variants"][0]["metadata"]["eligible"] is True
    assert {"type": "info", "code": "not_found", "content": "nope"} in doc["messages"]
    assert doc["ucp"]["capabilities"] == {"dev.ucp.shopping.catalog.lookup": [{"version": doc["ucp"]["version"]}]}


def test_lookup_merges_ids_naming_one_variant(client: httpx.Client) -> None:
    doc = _post(client, "/ucp/catalog/lookup", {"ids": ["12", BEANIE, "12"], "filters": {"price": {"max": 1}}},
                LOOKUP)
    [beanie] = doc["products"]
    [v] = beanie["variants"]
    assert v["id"] == "12" and v["inputs"] == [{"id": "12", "match": "exact"}, {"id": BEANIE, "match": "featured"}]
    assert "filters_not_applied" in [m["code"] for m in doc["messages"]]


def test_lookup_only_unknown_ids_is_an_empty_answer(client: httpx.Client) -> None:
    doc = _post(client, "/ucp/catalog/lookup", {"ids": ["x", "y"]}, LOOKUP)
    assert doc["products"] == [] and [m["content"] for m in doc["messages"] if m["code"] == "not_found"] == ["x", "y"]


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"ids": [str(i) for i in range(MAX_LOOKUP_IDS + 1)]}, 400, "request_too_large"),
    ({"ids": []}, 422, "invalid_request"),
    ({"id": "11", "selected": [{"name": "Color"}]}, 422, "invalid_request"),
])
def test_lookup_refusals(client: httpx.Client, body: dict[str, Any], status: int, code: str) -> None:
    path = "/ucp/catalog/product" if "id" in body else "/ucp/catalog/lookup"
    resp = client.post(path, json=body)
    assert resp.status_code == status, resp.text
    assert schema_errors(ucp_validator("common/types/error_response.json"), resp.json()) == []
    assert resp.json()["messages"][0]["code"] == code


def test_get_product_all_variants_and_option_signals(client: httpx.Client) -> None:
    doc = _post(client, "/ucp/catalog/product", {"id": BEANIE}, PRODUCT)
    p = doc["product"]
    assert [v["id"] for v in p["variants"]] == ["12", "11", "13"]  # featured (buyable) first
    assert p["selected"] == []
    assert {o["name"]: o["values"] for o in p["options"]}["Color"] == [
        {"label": "Red", "exists": True, "available": True}, {"label": "Blue", "exists": True, "available": True}]


def test_get_product_narrows_by_selection(client: httpx.Client) -> None:
    doc = _post(client, "/ucp/catalog/product", {"id": BEANIE, "selected": [{"name": "color", "label": "red"}]},
                PRODUCT)
    p = doc["product"]
    assert [v["id"] for v in p["variants"]] == ["12", "11"]
    sizes = {o["name"]: o["values"] for o in p["options"]}["Size"]
    assert sizes == [{"label": "M", "exists": True, "available": False}, {"label": "L", "exists": True,
                                                                          "available": True}]


def test_get_product_relaxes_by_preferences(client: httpx.Client) -> None:
    body = {"id": BEANIE, "selected": [{"name": "Color", "label": "Blue"}, {"name": "Size", "label": "L"}],
            "preferences": ["Color", "Size"]}
    doc = _post(client, "/ucp/catalog/product", body, PRODUCT)
    assert doc["product"]["selected"] == [{"name": "Color", "label": "Blue"}]  # Size dropped first
    assert [v["id"] for v in doc["product"]["variants"]] == ["13"]
    warning = next(m for m in doc["messages"] if m["code"] == "selection_relaxed")
    assert warning["type"] == "warning" and "Size=L" in warning["content"]
    body["preferences"] = ["Size", "Color"]
    doc = _post(client, "/ucp/catalog/product", body, PRODUCT)
    assert doc["product"]["selected"] == [{"name": "Size", "label": "L"}]


def test_get_product_by_variant_selects_it(client: httpx.Client) -> None:
    doc = _post(client, "/ucp/catalog/product", {"id": "11"}, PRODUCT)
    assert doc["product"]["selected"] == [{"name": "Color", "label": "Red"}, {"name": "Size", "label": "M"}]
    assert [v["id"] for v in doc["product"]["variants"]] == ["11"]


def test_get_product_unknown_is_a_business_outcome(client: httpx.Client) -> None:
    doc = _post(client, "/ucp/catalog/product", {"id": "nope"}, "common/types/error_response.json")
    assert doc["ucp"]["status"] == "error"
    assert doc["messages"][0]["code"] == "not_found" and doc["messages"][0]["severity"] == "unrecoverable"
