"""The edge sanitiser on every surface: HTTP, MCP, UCP and the ACP feed each pass merchant text through
:mod:`indexer.sanitise`, whatever the engine handed them.

The engine here is a real one (hashing encoder) wrapped so that its answers carry *raw* hostile merchant
text, as if a future code path forgot :mod:`search.answer`: only the edge's own pass can clean it.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from search.engine import Engine
from search.schema import CheckRequest, CheckResponse, ProductOut, SearchRequest, SearchResponse
from search.serve.acp import acp_products
from search.serve.http import create_app
from search.serve.mcp import build_mcp_server
from search.serve.sanitise import clean_merchant_text, sanitised
from search.serve.ucp import UcpSearchRequest, ucp_search
from tests.search.conftest import make_engine, merchant, product, variant

HOSTILE = "<b>Red</b> &lt;script&gt;steal()&lt;/script&gt;hat\u202e\u200b<a title=\"x>y\">!</a>"
CLEAN = "Red hat!"
SHOP = merchant("evil.myshopify.com")


class RawEngine:
    """A real engine whose answers get raw hostile text put back into their merchant fields."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def search(self, request: SearchRequest) -> SearchResponse:
        resp = self.engine.search(request)
        results = [r.model_copy(update={"title": HOSTILE, "vendor": HOSTILE}) for r in resp.results]
        return resp.model_copy(update={"results": results})

    def get_product(self, doc_id: str, country: str = "US") -> ProductOut:
        out = self.engine.get_product(doc_id, country)
        return out.model_copy(update={"title": HOSTILE, "description": HOSTILE, "tags": [HOSTILE],
                                      "options": {HOSTILE: [HOSTILE]}, "product_type": HOSTILE})

    def check(self, request: CheckRequest) -> CheckResponse:
        return self.engine.check(request)

    def refresh(self) -> bool:
        return False

    @property
    def snapshot(self) -> Any:
        return self.engine.snapshot


@pytest.fixture(scope="module")
def raw() -> RawEngine:
    hat = product(HOSTILE, [variant({"Color": "Red"})], m=SHOP, vendor=HOSTILE, product_type=HOSTILE, pid="1")
    return RawEngine(make_engine([hat], [SHOP]))


def _strings(data: Any) -> list[str]:
    if isinstance(data, str):
        return [data]
    if isinstance(data, list):
        return [s for v in data for s in _strings(v)]
    if isinstance(data, dict):
        return [s for k, v in data.items() for s in [k, *_strings(v)]]
    return []


def _assert_clean(data: Any) -> None:
    text = json.dumps(data, ensure_ascii=False)
    assert "<b>" not in text and "steal" not in text and "x>y" not in text, text
    assert "\u202e" not in text and "\u200b" not in text


def test_raw_engine_is_really_raw(raw: RawEngine) -> None:
    assert raw.search(SearchRequest(query="hat")).results[0].title == HOSTILE


def test_http(raw: RawEngine) -> None:
    client = TestClient(create_app(engine=raw, refresh_interval=0), base_url="http://127.0.0.1")
    found = client.post("/v1/search", json={"query": "hat"}).json()
    _assert_clean(found)
    assert found["results"][0]["title"] == CLEAN
    doc_id = found["results"][0]["doc_id"]
    got = client.get(f"/v1/products/{doc_id}").json()
    _assert_clean(got)
    assert got["options"] == {CLEAN: [CLEAN]} and got["tags"] == [CLEAN]
    assert got["url"] == raw.get_product(doc_id).url  # ids and URLs are not merchant text: left alone


def test_mcp(raw: RawEngine) -> None:
    server = build_mcp_server(raw)

    async def call() -> tuple[Any, Any]:
        found = await server.call_tool("search_catalog", {"query": "hat"})
        doc_id = found.structured_content["results"][0]["doc_id"]
        return found, await server.call_tool("get_product", {"doc_id": doc_id})

    found, got = asyncio.run(call())
    _assert_clean(found.structured_content)
    _assert_clean(got.structured_content)
    assert found.structured_content["results"][0]["title"] == CLEAN


def test_ucp(raw: RawEngine) -> None:
    out = ucp_search(raw, UcpSearchRequest.model_validate({"query": "hat"}))
    _assert_clean(out["products"])
    assert out["products"][0]["title"] == CLEAN
    assert out["products"][0]["categories"] == [{"value": CLEAN, "taxonomy": "merchant"}]


def test_acp_feed(raw: RawEngine) -> None:
    snap = raw.snapshot
    out = list(acp_products(snap.products, snap.merchants))
    _assert_clean(out)
    assert out[0]["title"] == CLEAN
    assert out[0]["variants"][0]["categories"] == [{"value": CLEAN, "taxonomy": "merchant"}]


def test_only_merchant_subtrees_are_touched() -> None:
    data = {"query": "<b>mine</b>", "results": [{"title": "<i>x</i>", "url": "https://s/p?a=1&amp;b=2"}]}
    assert clean_merchant_text(data) == {"query": "<b>mine</b>", "results": [{"title": "x",
                                                                              "url": "https://s/p?a=1&amp;b=2"}]}


def test_sanitised_is_a_json_ready_copy(raw: RawEngine) -> None:
    resp = raw.search(SearchRequest(query="hat"))
    out = sanitised(resp)
    assert out["results"][0]["title"] == CLEAN and resp.results[0].title == HOSTILE
    assert CLEAN in _strings(out)
