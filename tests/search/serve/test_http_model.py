"""The API with the real model (all-MiniLM-L6-v2, bundled, offline) over two crawled sample merchants
(about 115 products): semantic queries over HTTP, MCP and the UCP facade reach the same dense index."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client

from search.serve.http import create_app
from tests.search.apiworld import World, running_api, sample_world, schema_errors, ucp_validator

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def world(sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with sample_world(sample_dir, tmp_path_factory.mktemp("model"), model=None,
                      hostile=False, only=("northfield-knits", "wildthread-studio")) as w:
        assert "all-MiniLM-L6-v2" in w.engine.snapshot.manifest["model"]
        yield w


@pytest.fixture(scope="module")
def base(world: World) -> Iterator[str]:
    with running_api(create_app(engine=world.engine, refresh_interval=0)) as url:
        yield url


def test_semantic_search_over_http_mcp_and_ucp(world: World, base: str) -> None:
    # "something warm for my head" shares no word with "beanie": the dense half of hybrid finds them.
    query = "something warm to wear on my head in winter"
    dense = httpx.post(f"{base}/v1/search", json={"query": query, "mode": "dense", "limit": 5}, trust_env=False)
    assert dense.status_code == 200, dense.text
    titles = [r["title"].lower() for r in dense.json()["results"]]
    assert sum(any(w in t for w in ("beanie", "hat", "cap", "headband", "earmuff")) for t in titles) >= 3, titles

    async def mcp() -> list[str]:
        async with streamable_http_client(f"{base}/mcp") as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                r = await session.call_tool("search_catalog", {"query": query, "limit": 5})
                assert not r.is_error
                return [x["doc_id"] for x in r.structured_content["results"]]

    hybrid = httpx.post(f"{base}/v1/search", json={"query": query, "limit": 5}, trust_env=False).json()
    assert asyncio.run(mcp()) == [r["doc_id"] for r in hybrid["results"]]
    ucp = httpx.post(f"{base}/ucp/catalog/search", json={"query": query, "pagination": {"limit": 5}},
                     trust_env=False).json()
    assert schema_errors(ucp_validator("shopping/catalog_search.json#/$defs/search_response"), ucp) == []
    assert [p["id"] for p in ucp["products"]] == [r["doc_id"] for r in hybrid["results"]]
