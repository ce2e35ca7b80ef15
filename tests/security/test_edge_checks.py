"""Issue 12, low items, each against real loopback servers: the Host check (DNS rebinding), the admin
API's JSON content type (cross-site text/plain POST), malformed MCP stdio lines, country / currency /
price-range validation, MCP argument errors in aisle's shape, deeply nested JSON, signed cursors, and
the ACP feed's merchant-content marker."""

from __future__ import annotations

import base64
import json
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from indexer.storefront import running_storefront
from search.answer import CURSOR_KEY_FILE
from search.schema import MERCHANT_CONTENT_NOTICE, Context
from search.serve.stdio import malformed_reply
from tests.security.hostile_api import HostileApi, hostile_api

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def api(sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostileApi]:
    with hostile_api(sample_dir, tmp_path_factory.mktemp("edge")) as a:
        yield a


@pytest.fixture()
def client(api: HostileApi) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api.base, trust_env=False, timeout=30) as c:
        yield c


def _code(resp: httpx.Response, status: int) -> str:
    assert resp.status_code == status, resp.text
    return str(resp.json()["error"]["code"])


def test_a_rebinding_host_is_refused_on_loopback(client: httpx.Client, api: HostileApi) -> None:
    port = api.base.rsplit(":", 1)[1]
    for host in ("attacker.example", f"attacker.example:{port}", "127.0.0.1.attacker.example", "localhost.evil"):
        r = client.post("/v1/search", json={"query": "hat"}, headers={"host": host})
        assert _code(r, 421) == "bad_host", host
        assert client.get("/v1/health", headers={"host": host}).status_code == 421
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", "127.0.0.1", f"[::1]:{port}", f"LOCALHOST:{port}"):
        assert client.get("/v1/health", headers={"host": host}).status_code == 200, host


def test_the_admin_api_wants_json(sample_dir: Path) -> None:
    with running_storefront(sample_dir) as sf, httpx.Client(trust_env=False, timeout=10) as c:
        before = sf.admin.stores()
        body = json.dumps({"spec": "500=1.0"})
        for ctype in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None):
            headers = {"content-type": ctype} if ctype else {}
            r = c.post(f"{sf.base_url}/_admin/faults", content=body, headers=headers)
            assert r.status_code == 415 and r.json()["code"] == "unsupported_media_type", ctype
        assert sf.admin.stores() == before and sf.fault_stats()["spec"] != "500=1.0"
        ok = c.post(f"{sf.base_url}/_admin/faults", content=body, headers={"content-type": "application/json"})
        assert ok.status_code == 200 and sf.fault_stats()["spec"] == str(ok.json()["spec"])


def test_aisle_mcp_answers_malformed_lines(api: HostileApi) -> None:
    lines = [b"{not json", b"[" * 10000, b'{"jsonrpc": "2.0", "id": 5, "method": 7}', b"",
             json.dumps({"jsonrpc": "2.0", "id": 9, "method": "ping"}).encode()]
    env = {**os.environ, "AISLE_HOME": str(api.ws.home), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    aisle = shutil.which("aisle") or str(Path(sys.executable).with_name("aisle"))
    out = subprocess.run([aisle, "--home", str(api.ws.home), "mcp"], input=b"\n".join(lines) + b"\n", env=env,
                         capture_output=True, timeout=120, check=False)
    replies = [json.loads(x) for x in out.stdout.decode().splitlines()]
    assert [(r.get("id"), r.get("error", {}).get("code")) for r in replies] == [
        (None, -32700), (None, -32700), (5, -32600), (9, None)], out.stderr.decode()[-2000:]
    assert "Traceback" not in out.stderr.decode()


def test_malformed_reply_shapes() -> None:
    assert json.loads(malformed_reply("{") or "")["error"]["code"] == -32700
    assert json.loads(malformed_reply('{"jsonrpc":"2.0","id":true,"method":1}') or "")["id"] is None
    assert malformed_reply('{"jsonrpc":"2.0","id":1,"method":"ping"}') is None


@pytest.mark.parametrize("country", ["ZZ", "ÜS", "U\u0000", "XX", "Narnia", "U"])
def test_countries_that_do_not_exist_are_refused(client: httpx.Client, country: str) -> None:
    r = client.post("/v1/search", json={"query": "hat", "context": {"country": country}})
    code = _code(r, 400 if len(country) >= 2 else 422)
    assert code == ("bad_country" if len(country) >= 2 else "invalid_request")
    assert country not in r.json()["error"]["message"] or country == "U"
    if len(country) == 2:
        assert _code(client.get("/v1/products/x", params={"country": country}), 400) == "bad_country"
        r = client.post("/v1/checkout/check", json={"items": [{"variant_id": "1"}], "country": country})
        assert _code(r, 400) == "bad_country"
    r = client.post("/ucp/catalog/search", json={"query": "hat", "context": {"address_country": country}})
    assert r.status_code in (400, 422) and r.json()["ucp"]["status"] == "error"


def test_country_names_and_currencies() -> None:
    assert Context(country="Canada").country == "CA" and Context(country="uk").country == "GB"
    assert Context(currency="eur").currency == "EUR"


def test_currencies_and_price_ranges(client: httpx.Client) -> None:
    assert _code(client.post("/v1/search", json={"query": "hat", "context": {"currency": "XYZ"}}), 400) == \
        "bad_currency"
    r = client.post("/v1/search", json={"query": "hat", "filters": {"price": {"max": 10, "currency": "QQQ"}}})
    assert _code(r, 400) == "bad_currency"
    r = client.post("/v1/search", json={"query": "hat", "filters": {"price": {"min": 5000, "max": 100}}})
    assert _code(r, 400) == "bad_price_range"
    r = client.post("/v1/search", json={"query": "hat", "context": {"budget": {"min": 9, "max": 1}}})
    assert _code(r, 400) == "bad_price_range"
    r = client.post("/ucp/catalog/search", json={"query": "hat", "context": {"currency": "ABC"},
                                                 "filters": {"price": {"max": 100}}})
    assert r.status_code == 400 and r.json()["messages"][0]["code"] == "bad_currency"
    r = client.post("/v1/search", json={"query": "hat under $40 over $90"})  # the shopper's own words: no error
    assert r.status_code == 200, r.text


def _mcp(client: httpx.Client, tool: str, args: dict[str, Any]) -> dict[str, Any]:
    r = client.post("/mcp", headers={"accept": "application/json, text/event-stream"}, json={
        "jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": tool, "arguments": args}})
    assert r.status_code == 200, r.text
    return r.json()["result"]  # type: ignore[no-any-return]


@pytest.mark.parametrize(("tool", "args", "code"), [
    ("search_catalog", {"query": "hat", "country": "ZZ<script>"}, "bad_country"),
    ("search_catalog", {"query": "hat", "country": "ZZ"}, "bad_country"),
    ("search_catalog", {"query": "hat", "limit": "<script>many</script>"}, "invalid_request"),
    ("search_catalog", {"query": "hat", "limit": 1000}, "limit_too_large"),
    ("search_catalog", {"query": "<script>" * 400}, "query_too_long"),
    ("search_catalog", {"query": "hat", "currency": "<b>X</b>"}, "invalid_request"),
    ("search_catalog", {"query": "hat", "filters": {"price": {"min": 9, "max": 1}}}, "bad_price_range"),
    ("get_product", {"doc_id": ["<script>"], "country": "US"}, "invalid_request"),
    ("get_product", {"doc_id": "x", "country": "Q\u0000"}, "bad_country"),
    ("check_checkout", {"items": "<script>alert(1)</script>"}, "invalid_request"),
    ("check_checkout", {"items": [{"variant_id": "1"}], "country": "ZZ"}, "bad_country"),
])
def test_mcp_argument_errors_use_aisles_shape(client: httpx.Client, tool: str, args: dict[str, Any],
                                              code: str) -> None:
    result = _mcp(client, tool, args)
    assert result["isError"]
    text = result["content"][0]["text"]
    body = json.loads(text[text.index("{"):])
    assert body["error"]["code"] == code, text
    assert "<script>" not in text and "input_value" not in text and "pydantic" not in text


def test_deeply_nested_json_is_malformed_json(client: httpx.Client) -> None:
    for path in ("/v1/search", "/ucp/catalog/search", "/v1/checkout/check", "/mcp"):
        body = b'{"query": ' + b"[" * 5000 + b"]" * 5000 + b"}"
        r = client.post(path, content=body, headers={"content-type": "application/json",
                                                     "accept": "application/json, text/event-stream"})
        assert r.status_code == 400, (path, r.text)
        text = r.text
        assert "malformed_json" in text and "Traceback" not in text
    ok = {"query": "hat", "filters": {"attributes": {"color": ["red"]}}}
    assert client.post("/v1/search", json=ok).status_code == 200


def test_a_forged_cursor_is_bad_cursor(client: httpx.Client, api: HostileApi) -> None:
    first = client.post("/v1/search", json={"query": "beanie", "limit": 2}).json()
    cursor = first["next_cursor"]
    assert cursor and "." in cursor
    second = client.post("/v1/search", json={"query": "beanie", "limit": 2, "cursor": cursor})
    assert second.status_code == 200 and second.json()["results"]
    body, mac = cursor.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    for offset in (0, 9, 199, 10**9):
        forged = base64.urlsafe_b64encode(json.dumps({**payload, "o": offset}, separators=(",", ":")).encode())
        r = client.post("/v1/search", json={"query": "beanie", "limit": 2,
                                            "cursor": forged.decode().rstrip("=") + "." + mac})
        assert _code(r, 400) == "bad_cursor"
    r = client.post("/v1/search", json={"query": "beanie", "limit": 2, "cursor": body})  # unsigned (old form)
    assert _code(r, 400) == "bad_cursor"
    key = api.ws.home / CURSOR_KEY_FILE
    assert key.exists() and stat.S_IMODE(key.stat().st_mode) == 0o600 and len(key.read_bytes()) == 32


def test_the_acp_feed_carries_the_merchant_content_marker(client: httpx.Client) -> None:
    r = client.get("/acp/feed", params={"limit": 5})
    assert r.status_code == 200
    assert r.headers["X-Aisle-Content-Source"] == "merchant"
    assert r.headers["X-Aisle-Content-Notice"] == MERCHANT_CONTENT_NOTICE
    assert client.post("/v1/search", json={"query": "hat"}).json()["content_notice"] == MERCHANT_CONTENT_NOTICE


def test_get_mcp_is_405_not_a_stream_held_open(client: httpx.Client) -> None:
    # The fuzz run found it: a stateless server's GET /mcp was an SSE stream that never ended.
    r = client.get("/mcp", headers={"accept": "text/event-stream"}, timeout=5)
    assert r.status_code == 405 and r.headers["allow"] == "POST" and r.json()["error"]["code"] == -32600
