"""Issue 12, item 1: every outgoing request goes through one guarded client.

Each test reproduces the attack against real loopback servers: a store whose product answers a redirect
into the internal network (live re-check over /v1 and MCP), a redirect to another origin that would carry
the operator's key, and a name whose DNS answer changes between check and connect (a rebinding resolver
injected at the guard's resolver boundary). 127.0.0.1 plays the allowed store; 127.0.0.2, never allowed,
plays the internal service.
"""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from indexer.crawl.guarded import AsyncGuardedClient, GuardedClient
from indexer.crawl.http import ClientSettings, PoliteClient
from indexer.crawl.netguard import HostGuard, embedded_ipv4, is_public
from indexer.errors import FetchError, HostNotAllowedError
from search.engine import Engine, EngineSettings
from search.schema import CartItem, CheckRequest, CheckResponse
from search.serve.http import create_app
from search.serve.mcp import build_mcp_server
from tests.search.apiworld import running_api
from tests.search.conftest import make_snapshot, merchant, product, variant
from tests.security.loopback import Loopback, json_answer, redirect, serving

SECRET = {"secret": "internal-only"}


@pytest.fixture()
def internal() -> Iterator[Loopback]:
    """The internal service an attacker wants reached (never allow-listed)."""
    with serving("127.0.0.2", lambda s: json_answer(SECRET)) as lb:
        yield lb


def _redirecting_store(internal: Loopback) -> Any:
    return serving("127.0.0.1", lambda s: redirect(f"{internal.url}/internal-secret"))


def _engine(store: Loopback, allow: tuple[str, ...]) -> tuple[Engine, str]:
    m = dataclasses.replace(merchant("evil.myshopify.com"), base_url=store.url)
    v = variant({"Size": "M"}, price=1500)
    p = product("Wool beanie", [v], m=m)
    engine = Engine(make_snapshot([p], [m]), settings=EngineSettings(allow_hosts=allow, etsy_api_key=None))
    return engine, v.variant_id


def test_recheck_redirect_into_the_internal_network_is_not_followed(internal: Loopback) -> None:
    with _redirecting_store(internal) as store:
        engine, vid = _engine(store, ("127.0.0.1",))
        with running_api(create_app(engine=engine, refresh_interval=0)) as base:
            r = httpx.post(f"{base}/v1/checkout/check", json={"items": [{"variant_id": vid}]}, timeout=30,
                           trust_env=False)
        assert r.status_code == 200
        got = CheckResponse.model_validate(r.json())
        assert got.items[0].reasons == ["merchant_unreachable"] and got.items[0].price is None
        # MCP check_checkout runs the same engine path.
        result = asyncio.run(build_mcp_server(engine).call_tool("check_checkout", {"items": [{"variant_id": vid}]}))
        assert "internal-only" not in str(result) and "merchant_unreachable" in str(result)
    assert store.paths()[0].startswith("/products/") and internal.seen == []


def test_the_same_attack_reaches_the_target_once_it_is_allowed(internal: Loopback) -> None:
    """Control: allowing the store does not allow its redirect targets; allowing the target does."""
    with _redirecting_store(internal) as store:
        engine, vid = _engine(store, ("127.0.0.1", "127.0.0.2"))
        engine.check(CheckRequest(items=[CartItem(variant_id=vid)]))
    assert internal.paths() == ["/internal-secret"]


def test_a_plain_httpx_client_is_refused_by_the_recheck() -> None:
    from search.checkout.live import LiveChecker

    with pytest.raises(Exception, match="GuardedClient"):
        LiveChecker(EngineSettings(), http=httpx.Client())


def test_credentials_never_follow_a_redirect_to_another_origin() -> None:
    with serving("127.0.0.1", lambda s: json_answer({"ok": True})) as other:
        with serving("127.0.0.1", lambda s: redirect(f"{other.url}/landing")) as api:
            guard = HostGuard(["127.0.0.1"])
            secret = {"x-api-key": "key:secret", "authorization": "Bearer tok", "x-etsy-token": "t"}
            with GuardedClient(guard, secret_headers=["x-etsy-token"]) as http:
                assert http.get(f"{api.url}/listings/1", headers=secret).json() == {"ok": True}

            async def crawl_get() -> Any:
                async with PoliteClient(ClientSettings(delay=0, retries=0), guard) as client:
                    return await client.get_json(f"{api.url}/shops/1", headers={"x-api-key": "key:secret"})

            assert asyncio.run(crawl_get()) == {"ok": True}
    assert [s.headers.get("x-api-key") for s in api.seen] == ["key:secret", "key:secret"]
    assert api.seen[0].headers["authorization"] == "Bearer tok"
    for seen in other.seen:
        assert not {"x-api-key", "authorization", "x-etsy-token", "cookie"} & set(seen.headers), seen.headers
    assert len(other.seen) == 2


class Rebinding:
    """A resolver that answers ``first`` once, then ``later`` (the classic DNS rebinding attack)."""

    def __init__(self, first: list[str], later: list[str]) -> None:
        self.first, self.later, self.calls = first, later, 0

    def __call__(self, host: str) -> list[str]:
        self.calls += 1
        return self.first if self.calls == 1 else self.later


def test_dns_rebinding_between_check_and_connect_cannot_redirect_the_connection() -> None:
    with serving("127.0.0.1", lambda s: json_answer({"store": True})) as store:
        with serving("127.0.0.2", lambda s: json_answer(SECRET), port=store.port) as inner:
            resolver = Rebinding(["127.0.0.1"], ["127.0.0.2"])
            guard = HostGuard(["127.0.0.1"], resolver=resolver)
            url = f"http://shop.rebind.test:{store.port}/products.json"
            with GuardedClient(guard) as http:
                assert [http.get(url).json() for _ in range(3)] == [{"store": True}] * 3

            async def crawl() -> Any:
                async with AsyncGuardedClient(guard) as client:
                    return (await client.get(url)).json()

            assert asyncio.run(crawl()) == {"store": True}
            assert resolver.calls == 1  # resolved once; every connection went to the checked address
            assert {s.headers["host"] for s in store.seen} == {f"shop.rebind.test:{store.port}"}
            # Once the pin expires the name is checked again, and its new answer is refused.
            clock = [0.0]
            guard2 = HostGuard(["127.0.0.1"], resolver=Rebinding(["127.0.0.1"], ["127.0.0.2"]), cache_ttl=5,
                               clock=lambda: clock[0])
            with GuardedClient(guard2) as http:
                http.get(url)
                clock[0] = 10.0
                with pytest.raises(HostNotAllowedError, match="127.0.0.2"):
                    http.get(url)
    assert inner.seen == []


def test_a_name_with_one_allowed_and_one_internal_address_is_refused() -> None:
    guard = HostGuard(["127.0.0.1"], resolver=lambda h: ["127.0.0.1", "127.0.0.2"])
    with GuardedClient(guard) as http, pytest.raises(HostNotAllowedError, match="127.0.0.2"):
        http.get("http://mixed.test:9/")


def test_a_name_that_does_not_resolve_is_a_fetch_error_not_a_crash() -> None:
    def broken(host: str) -> list[str]:
        raise OSError("no such host")

    with GuardedClient(HostGuard(resolver=broken)) as http, pytest.raises(FetchError, match="cannot resolve"):
        http.get("http://nowhere.test/")


@pytest.mark.parametrize(("address", "v4"), [
    ("2002:7f00:1::", "127.0.0.1"),               # 6to4
    ("2002:a9fe:a9fe::1", "169.254.169.254"),     # 6to4 of the metadata endpoint
    ("64:ff9b::7f00:1", "127.0.0.1"),             # NAT64 well-known prefix
    ("64:ff9b::a00:1", "10.0.0.1"),
    ("::ffff:127.0.0.1", "127.0.0.1"),            # IPv4-mapped
    ("::127.0.0.1", "127.0.0.1"),                 # IPv4-compatible (deprecated)
    ("2001:0:4136:e378:8000:63bf:80ff:fffe", "127.0.0.1"),  # Teredo, client 127.0.0.1 (obfuscated)
])
def test_embedded_ipv4_forms_are_judged_as_the_ipv4_they_embed(address: str, v4: str) -> None:
    ip = ipaddress.ip_address(address)
    assert str(embedded_ipv4(ip)) == v4 and not is_public(ip)
    with pytest.raises(HostNotAllowedError):
        HostGuard().check_sync(f"http://[{address}]/")
    # ... and reach only what the allow-list allows for that IPv4 address.
    HostGuard([v4]).check_sync(f"http://[{address}]/")


def test_embedded_public_ipv4_stays_public() -> None:
    for address in ("2002:808:808::1", "64:ff9b::808:808", "::ffff:8.8.8.8"):
        assert is_public(ipaddress.ip_address(address))
    assert not is_public(ipaddress.ip_address("64:ff9b:1::a00:1"))  # local-use NAT64 is never public


def test_a_huge_or_trickling_answer_is_cut_off() -> None:
    from indexer.crawl.guarded import read_capped

    big = b'{"variants": [' + b" " * (3 * 1024 * 1024) + b"]}"
    with serving("127.0.0.1", lambda s: (200, {"content-type": "application/json"}, big)) as store:
        m = dataclasses.replace(merchant("big.myshopify.com"), base_url=store.url)
        v = variant({"Size": "M"}, price=1500)
        engine = Engine(make_snapshot([product("Hat", [v], m=m)], [m]),
                        settings=EngineSettings(allow_hosts=("127.0.0.1",), etsy_api_key=None))
        item = engine.check(CheckRequest(items=[CartItem(variant_id=v.variant_id)])).items[0]
        assert item.reasons == ["merchant_unreachable"]

    def trickle() -> Iterator[bytes]:
        for _ in range(50):
            time.sleep(0.05)
            yield b" "

    slow = httpx.MockTransport(lambda r: httpx.Response(200, content=trickle()))
    with GuardedClient(HostGuard(), transport=slow, timeout=0.1) as http:
        t0 = time.monotonic()
        with pytest.raises(FetchError, match="longer than"):
            read_capped(http, "http://8.8.8.8/products/x.js")
        assert time.monotonic() - t0 < 1.0


def test_serve_and_mcp_take_allow_host_for_the_live_recheck(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    from typer.testing import CliRunner

    from cli.commands.serve import _allow
    from cli.main import _register_commands, app

    monkeypatch.setenv("AISLE_ALLOW_HOSTS", "10.0.0.0/8")
    _allow(["127.0.0.1"])
    assert EngineSettings().allow_hosts == ("127.0.0.1", "10.0.0.0/8")
    _register_commands()
    bad = CliRunner().invoke(app, ["--home", str(tmp_path), "mcp", "--allow-host", "http://x/"])
    assert bad.exit_code != 0 and "allow-host" in str(bad.exception)


@pytest.mark.parametrize(("address", "netloc"), [("93.184.216.34", "93.184.216.34"),
                                                 ("2606:4700::1111", "[2606:4700::1111]")])
def test_the_pinned_connection_keeps_the_name_for_host_and_tls(address: str, netloc: str) -> None:
    seen: list[httpx.Request] = []

    def wire(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    guard = HostGuard(resolver=lambda host: [address])
    with GuardedClient(guard, transport=httpx.MockTransport(wire)) as http:
        http.get("https://shop.example/products/x.js")
    (r,) = seen
    assert r.url.host == address and f"//{netloc}/" in str(r.url)
    assert r.headers["host"] == "shop.example" and r.extensions["sni_hostname"] == "shop.example"
