"""MCP: a real client session (the ``mcp`` package's client) against the tools at ``/mcp`` of a running
server (streamable HTTP) and against ``aisle mcp`` (stdio, a subprocess): list the tools, call each."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

from search.schema import MERCHANT_CONTENT_NOTICE, CheckResponse, ProductOut, SearchRequest, SearchResponse
from tests.search.apiworld import ETSY_KEY, World, mcp_text

TOOLS = {"search_catalog", "get_product", "check_checkout"}


async def _exercise(session: ClientSession, world: World) -> dict[str, Any]:
    """List the tools and call each one (plus two failing calls); returns what the tests check."""
    init = await session.initialize()
    listed = await session.list_tools()
    search = await session.call_tool("search_catalog", {"query": "merino beanie", "country": "US", "limit": 3})
    hit = search.structured_content["results"][0]
    product = await session.call_tool("get_product", {"doc_id": hit["doc_id"], "country": "GB"})
    check = await session.call_tool("check_checkout", {"items": [{"variant_id": hit["variant"]["id"]}]})
    missing = await session.call_tool("get_product", {"doc_id": "shopify:nowhere:1"})
    unknown = await session.call_tool("search_catalog", {"query": "hat", "filters": {"colour": "red"}})
    return {"init": init, "tools": listed.tools, "search": search, "product": product, "check": check,
            "missing": missing, "unknown": unknown, "hit": hit}


def _assert_session(out: dict[str, Any], world: World) -> None:
    assert "minor units" in (out["init"].instructions or "").lower()
    tools = {t.name: t for t in out["tools"]}
    assert set(tools) == TOOLS
    for t in tools.values():
        assert t.description and "merchant" in t.description.lower()
        assert t.input_schema["type"] == "object" and t.output_schema
    assert "authoritative" in tools["check_checkout"].description
    assert "minor units" in tools["get_product"].description
    assert "out_of_stock" in tools["search_catalog"].description  # reason codes are explained
    assert tools["search_catalog"].input_schema["properties"]["limit"]["maximum"] == 100
    assert "attributes" in json.dumps(tools["search_catalog"].input_schema["properties"]["filters"])

    search, product, check = out["search"], out["product"], out["check"]
    assert not search.is_error and not product.is_error and not check.is_error
    got = SearchResponse.model_validate(search.structured_content)
    direct = world.engine.search(SearchRequest(query="merino beanie", limit=10))
    # The same engine answers: the same best result, and the rest among the direct top 10 (a server in another
    # process encodes the query on its own threads, so scores may differ in the last float bits and swap
    # near-ties).
    assert got.results[0].doc_id == direct.results[0].doc_id
    assert {r.doc_id for r in got.results} <= {r.doc_id for r in direct.results}
    assert got.content_notice == MERCHANT_CONTENT_NOTICE
    assert json.loads(mcp_text(search))["results"][0]["doc_id"] == out["hit"]["doc_id"]  # JSON text too
    p = ProductOut.model_validate(product.structured_content)
    assert p.doc_id == out["hit"]["doc_id"] and len(p.buy) == len(p.variants) >= 1
    c = CheckResponse.model_validate(check.structured_content)
    assert c.items[0].variant_id == out["hit"]["variant"]["id"] and c.items[0].price is not None
    assert c.checkouts and c.checkouts[0].checkout_url

    assert out["missing"].is_error and '"code": "not_found"' in mcp_text(out["missing"])
    assert out["unknown"].is_error and '"code": "unknown_filter"' in mcp_text(out["unknown"])
    assert "colour" in mcp_text(out["unknown"])


def test_mcp_over_streamable_http(world: World, base_url: str) -> None:
    async def run() -> dict[str, Any]:
        async with streamable_http_client(f"{base_url}/mcp") as (read, write):
            async with ClientSession(read, write) as session:
                return await _exercise(session, world)

    _assert_session(asyncio.run(asyncio.wait_for(run(), 60)), world)


def test_mcp_http_sessions_in_parallel(world: World, base_url: str) -> None:
    async def one(q: str) -> list[str]:
        async with streamable_http_client(f"{base_url}/mcp") as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                r = await session.call_tool("search_catalog", {"query": q, "limit": 2})
                assert not r.is_error, mcp_text(r)
                return [x["doc_id"] for x in r.structured_content["results"]]

    async def run() -> list[list[str]]:
        return await asyncio.gather(*(one(q) for q in ("bowl", "beanie", "boots", "notebook")))

    assert all(len(ids) == 2 for ids in asyncio.run(asyncio.wait_for(run(), 60)))


def test_mcp_over_stdio_with_aisle_mcp(world: World) -> None:
    aisle = shutil.which("aisle") or str(Path(sys.executable).with_name("aisle"))
    env = {**os.environ, "AISLE_ETSY_API_KEY": ETSY_KEY, "AISLE_ALLOW_HOSTS": "127.0.0.1", "HF_HUB_OFFLINE": "1"}
    params = StdioServerParameters(command=aisle, args=["--home", str(world.ws.home), "mcp"], env=env)

    async def run() -> dict[str, Any]:
        with open(os.devnull, "w") as errlog:
            async with stdio_client(params, errlog=errlog) as (read, write):
                async with ClientSession(read, write) as session:
                    return await _exercise(session, world)

    _assert_session(asyncio.run(asyncio.wait_for(run(), 120)), world)
