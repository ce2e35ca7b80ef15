"""Hypothesis-generated requests against the real server: whatever the body, never a 5xx, and every
error answer carries a machine-readable code (UCP-shaped under /ucp/)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from search.serve.http import create_app
from tests.search.apiworld import World, running_api, sample_world

FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)

json_leaf = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=40)
json_value = st.recursive(json_leaf, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12),
                                                                                                  inner, max_size=4),
                          max_leaves=12)
words = st.sampled_from(["red", "wool", "beanie", "mug", "size", "M", "under $30", "blue", "cotton", "notebook",
                         "ships to canada", "oak", "€40", "XL", "", " ", "<script>", "'; DROP TABLE", "\u0000"])
query = st.lists(words, max_size=6).map(" ".join) | st.text(max_size=60) | st.text(min_size=1990, max_size=2100)
country = st.sampled_from(["US", "gb", "DE", "JP", "XX", "usa", "", "1", "u"]) | st.text(max_size=4)
filter_keys = st.sampled_from(["attributes", "vendor", "product_type", "merchant", "platform", "price",
                               "available_only", "colour", "brand", "size"])
attributes = st.dictionaries(st.sampled_from(["color", "size", "material", "colur", "With Scarf", ""]),
                             st.one_of(words, st.lists(words, max_size=3), json_value), max_size=3)
filters = st.dictionaries(filter_keys, st.one_of(json_value, attributes, words, st.lists(words, max_size=3)),
                          max_size=4)
search_body = st.fixed_dictionaries(
    {},
    optional={
        "query": st.one_of(query, json_value),
        "filters": st.one_of(filters, json_value),
        "context": st.one_of(st.fixed_dictionaries({}, optional={"country": country, "currency": country}),
                             json_value),
        "limit": st.one_of(st.integers(-5, 150), json_value),
        "cursor": st.one_of(st.text(max_size=30), json_value),
        "mode": st.sampled_from(["hybrid", "bm25", "dense", "magic"]),
        "buyable_only": st.one_of(st.booleans(), json_value),
        "include_near": st.booleans(),
        "extra": json_value,
    },
)
check_body = st.fixed_dictionaries(
    {},
    optional={
        "items": st.one_of(
            st.lists(st.fixed_dictionaries({"variant_id": st.one_of(st.text(max_size=70), st.integers())},
                                           optional={"quantity": st.integers(-2, 2000), "doc_id": st.text(max_size=40),
                                                     "junk": json_value}), max_size=5),
            json_value),
        "country": country,
    },
)
ucp_body = st.fixed_dictionaries(
    {},
    optional={
        "query": st.one_of(query, json_value),
        "context": st.one_of(st.fixed_dictionaries({}, optional={"address_country": country, "currency": country,
                                                                 "intent": st.text(max_size=20)}), json_value),
        "filters": st.one_of(st.fixed_dictionaries({}, optional={
            "categories": st.one_of(st.lists(words, max_size=3), json_value),
            "price": st.one_of(st.fixed_dictionaries({}, optional={"min": st.integers(-10, 10**6),
                                                                   "max": st.integers(-10, 10**6)}), json_value),
        }), filters, json_value),
        "pagination": st.one_of(st.fixed_dictionaries({}, optional={"limit": st.integers(-3, 300),
                                                                    "cursor": st.text(max_size=20)}), json_value),
        "signals": json_value,
    },
)


@pytest.fixture(scope="module")
def client(sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    with sample_world(sample_dir, tmp_path_factory.mktemp("fuzz"), hostile=False) as w:
        world: World = w
        with running_api(create_app(engine=world.engine, refresh_interval=0)) as base:
            with httpx.Client(base_url=base, timeout=60, trust_env=False) as c:
                yield c


def _check(resp: httpx.Response) -> None:
    assert resp.status_code < 500, (resp.status_code, resp.text[:500])
    if resp.status_code >= 400:
        body = resp.json()
        if resp.request.url.path.startswith("/ucp/"):
            assert body["ucp"]["status"] == "error" and body["messages"][0]["code"]
        else:
            assert isinstance(body["error"]["code"], str) and body["error"]["code"]


def _post(client: httpx.Client, path: str, body: Any) -> httpx.Response:
    # allow_nan: a float like 1e400 becomes Infinity, which is not JSON; the server must still answer 4xx.
    data = json.dumps(body, allow_nan=True).encode()
    return client.post(path, content=data, headers={"content-type": "application/json"})


@FUZZ
@given(body=st.one_of(search_body, json_value))
def test_search_never_5xx(client: httpx.Client, body: Any) -> None:
    _check(_post(client, "/v1/search", body))


@FUZZ
@given(body=st.one_of(check_body, json_value))
def test_check_never_5xx(client: httpx.Client, body: Any) -> None:
    _check(_post(client, "/v1/checkout/check", body))


@FUZZ
@given(body=st.one_of(ucp_body, json_value))
def test_ucp_never_5xx(client: httpx.Client, body: Any) -> None:
    _check(_post(client, "/ucp/catalog/search", body))


@FUZZ
@given(doc_id=st.text(min_size=1, max_size=400), country=country)
def test_product_never_5xx(client: httpx.Client, doc_id: str, country: str) -> None:
    _check(client.get(f"/v1/products/{quote(doc_id, safe='')}", params={"country": country}))


@FUZZ
@given(raw=st.binary(max_size=300), ctype=st.sampled_from(["application/json", "text/plain", "", "multipart/x"]))
def test_raw_bytes_never_5xx(client: httpx.Client, raw: bytes, ctype: str) -> None:
    for path in ("/v1/search", "/v1/checkout/check", "/ucp/catalog/search"):
        _check(client.post(path, content=raw, headers={"content-type": ctype} if ctype else {}))
