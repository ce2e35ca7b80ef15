"""``aisle serve`` as a user runs it: refusals with exit codes, and a token-guarded multi-worker server
bound off loopback that answers HTTP and MCP (stateless, so any worker can take any MCP request)."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from indexer.build.index import index_workspace
from indexer.storefront import running_storefront
from indexer.workspace import Workspace
from tests.search.apiworld import ETSY_KEY, crawl_into, stop_process


def _aisle() -> str:
    return shutil.which("aisle") or str(Path(sys.executable).with_name("aisle"))


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "AISLE_API_TOKEN"}
    return {**env, "HF_HUB_OFFLINE": "1", **extra}


def test_refuses_public_bind_without_token(tmp_path: Path) -> None:
    done = subprocess.run([_aisle(), "--home", str(tmp_path), "serve", "--host", "0.0.0.0"], env=_env(),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "AISLE_API_TOKEN" in done.stderr


def test_no_snapshot_exit_code(tmp_path: Path) -> None:
    done = subprocess.run([_aisle(), "--home", str(tmp_path), "serve", "--workers", "2"], env=_env(),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 5 and "no_snapshot" in done.stderr


def test_warns_at_start_without_etsy_key(tmp_path: Path) -> None:
    env = {k: v for k, v in _env().items() if k != "AISLE_ETSY_API_KEY"}
    done = subprocess.run([_aisle(), "--home", str(tmp_path), "serve"], env=env, capture_output=True, text=True,
                          timeout=60)
    assert "AISLE_ETSY_API_KEY is not set" in done.stderr and "merchant_credentials_missing" in done.stderr
    done = subprocess.run([_aisle(), "--home", str(tmp_path), "serve"], env={**env, "AISLE_ETSY_API_KEY": "k:s"},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 5 and "AISLE_ETSY_API_KEY" not in done.stderr


@pytest.mark.timeout(180)
def test_public_bind_with_token_and_workers(sample_dir: Path, tmp_path: Path) -> None:
    ws = Workspace.resolve(tmp_path / "home")
    with running_storefront(sample_dir) as sf:
        crawl_into(ws, sf)
    assert index_workspace(ws, "hashing-64", "cpu").status == "built"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    token = "t0ken-for-tests"
    server = subprocess.Popen([_aisle(), "--home", str(ws.home), "serve", "--host", "0.0.0.0", "--port", str(port),
                               "--workers", "2", "--log-level", "warning"],
                              env=_env(AISLE_API_TOKEN=token, AISLE_ETSY_API_KEY=ETSY_KEY),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    auth = {"Authorization": f"Bearer {token}"}
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{base}/v1/health", headers=auth, trust_env=False).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, "aisle serve --workers 2 did not start"
            time.sleep(0.3)
        with httpx.Client(base_url=base, trust_env=False, timeout=30) as c:
            assert c.post("/v1/search", json={"query": "mug"}).status_code == 401
            for _ in range(6):  # new connections: both workers answer
                assert httpx.post(f"{base}/v1/search", json={"query": "mug"}, headers=auth,
                                  trust_env=False).status_code == 200

        async def mcp_call() -> list[str]:
            async with create_mcp_http_client(headers=auth) as http:
                async with streamable_http_client(f"{base}/mcp", http_client=http) as (read, write):
                    async with ClientSession(read, write) as session:
                        await session.initialize()
                        names = [t.name for t in (await session.list_tools()).tools]
                        r = await session.call_tool("search_catalog", {"query": "beanie", "limit": 2})
                        assert not r.is_error and len(r.structured_content["results"]) == 2
                        return names

        assert sorted(asyncio.run(asyncio.wait_for(mcp_call(), 60))) == ["check_checkout", "get_product",
                                                                         "search_catalog"]
    finally:
        stop_process(server)
