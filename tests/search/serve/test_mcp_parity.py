"""MCP ``search_catalog`` takes the arguments of ``POST /v1/search`` and refuses what HTTP refuses, with the same
error codes: a real client session against the tools at ``/mcp`` of a running server, beside the HTTP route."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client

from search.schema import SearchResponse
from tests.search.apiworld import mcp_text

BODY: dict[str, Any] = {
    "query": "wool beanie", "mode": "bm25", "limit": 5, "include_near": True,
    "filters": {"attributes": {"size": ["M"]}}, "context": {"country": "CA", "currency": "USD"},
    "facets": ["color", "price", "merchant", "availability"], "sort": "price_asc", "explain": True,
    "highlight": True, "buyable_first": True,
}


def _calls(base_url: str, calls: list[tuple[str, dict[str, Any]]]) -> tuple[list[Any], dict[str, Any]]:
    async def run() -> tuple[list[Any], dict[str, Any]]:
        async with streamable_http_client(f"{base_url}/mcp") as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                tools = {t.name: t for t in (await session.list_tools()).tools}
                return [await session.call_tool(name, args) for name, args in calls], tools

    return asyncio.run(asyncio.wait_for(run(), 90))


def _code(result: Any) -> str:
    assert result.is_error, mcp_text(result)
    text = mcp_text(result)
    return str(json.loads(text[text.index("{"):])["error"]["code"])


def test_search_catalog_takes_the_http_request_and_answers_the_same(base_url: str) -> None:
    with httpx.Client(base_url=base_url, timeout=60, trust_env=False) as c:
        http = SearchResponse.model_validate(c.post("/v1/search", json=BODY).raise_for_status().json())
    (mcp,), tools = _calls(base_url, [("search_catalog", BODY)])
    assert not mcp.is_error, mcp_text(mcp)
    got = SearchResponse.model_validate(mcp.structured_content)
    assert [r.doc_id for r in got.results] == [r.doc_id for r in http.results]
    assert got.facets == http.facets and set(got.facets) == {"color", "price", "merchant", "availability"}
    assert got.interpreted.sort == "price_asc" and got.interpreted.country == "CA"
    assert all(r.explain is not None and r.highlight is not None for r in got.results)
    assert "_highlight" in mcp.structured_content["results"][0]
    props = tools["search_catalog"].input_schema["properties"]
    for field in ("query", "filters", "context", "limit", "cursor", "mode", "buyable_only", "include_near",
                  "facets", "sort", "rates", "explain", "highlight", "buyable_first"):
        assert field in props, field
    # the shortcuts still work and win over context
    (short,), _ = _calls(base_url, [("search_catalog", {"query": "wool beanie", "country": "GB",
                                                         "context": {"country": "CA"}, "limit": 2})])
    assert SearchResponse.model_validate(short.structured_content).interpreted.country == "GB"


@pytest.mark.parametrize(("args", "code"), [
    ({"query": "hat", "colour": "red"}, "unknown_field"),
    ({"query": "hat", "near": True}, "unknown_field"),
    ({"query": "hat", "filters": {"colour": "red"}}, "unknown_filter"),
    ({"query": "hat", "context": {"country": "Narnia"}}, "bad_country"),
    ({"query": "hat", "limit": 1000}, "limit_too_large"),
    ({"query": "hat", "sort": "cheapest"}, "invalid_request"),
    ({"query": "hat", "facets": ["colour"]}, "unknown_facet"),
])
def test_mcp_refuses_what_http_refuses_with_the_same_code(base_url: str, args: dict[str, Any], code: str) -> None:
    with httpx.Client(base_url=base_url, timeout=60, trust_env=False) as c:
        resp = c.post("/v1/search", json=args)
    assert resp.status_code in (400, 422) and resp.json()["error"]["code"] == code, resp.text
    (result,), _ = _calls(base_url, [("search_catalog", args)])
    assert _code(result) == code


def test_other_tools_refuse_unknown_arguments_too(base_url: str) -> None:
    (product, check), _ = _calls(base_url, [("get_product", {"doc_id": "x", "verbose": True}),
                                             ("check_checkout", {"items": [{"variant_id": "1"}], "cart": 1})])
    assert _code(product) == "unknown_field" and _code(check) == "unknown_field"
    assert "verbose" in mcp_text(product) and "cart" in mcp_text(check)


def test_http_and_mcp_say_which_languages_the_query_was_read_in(base_url: str) -> None:
    body = {"query": "zapatos rojos", "mode": "bm25", "limit": 3}  # the sample's Luna Bebé store writes Spanish
    with httpx.Client(base_url=base_url, timeout=60, trust_env=False) as c:
        http = c.post("/v1/search", json=body).raise_for_status().json()
    (mcp,), _ = _calls(base_url, [("search_catalog", body)])
    assert http["interpreted"]["languages"] == mcp.structured_content["interpreted"]["languages"] == ["es", "en"]
