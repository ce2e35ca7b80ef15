"""SSRF guard: loopback/private/link-local/... refused by default, allow-listed names and CIDRs allowed."""

from __future__ import annotations

import asyncio
import ipaddress
from pathlib import Path

import httpx
import pytest

from indexer.crawl.http import ClientSettings, PoliteClient
from indexer.crawl.netguard import HostGuard, is_public
from indexer.crawl.run import CrawlSettings, crawl
from indexer.crawl.targets import Target
from indexer.errors import ConfigError, HostNotAllowedError
from indexer.settings import Settings
from indexer.store.store import Store


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/products.json", "http://127.9.9.9:8080/", "http://[::1]/", "http://10.1.2.3/",
    "http://172.16.0.1/", "http://192.168.1.1/", "http://169.254.169.254/latest/meta-data/", "http://0.0.0.0/",
    "http://224.0.0.1/", "http://100.64.0.1/", "http://[fe80::1]/", "http://[fc00::1]/", "http://240.0.0.1/",
    "http://[::ffff:127.0.0.1]/", "http://localhost:8765/", "http://LOCALHOST./",
])
def test_non_public_addresses_are_refused_by_default(url: str) -> None:
    with pytest.raises(HostNotAllowedError, match="--allow-host"):
        HostGuard().check_sync(url)


@pytest.mark.parametrize("url", ["http://8.8.8.8/", "https://1.1.1.1/products.json", "http://[2606:4700::1111]/"])
def test_public_addresses_pass(url: str) -> None:
    HostGuard().check_sync(url)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://8.8.8.8/", "gopher://x/", "http:///nohost"])
def test_other_schemes_and_hostless_urls_are_refused(url: str) -> None:
    with pytest.raises(HostNotAllowedError):
        HostGuard().check_sync(url)


def test_allow_list_by_name_and_cidr() -> None:
    guard = HostGuard(["localhost", "10.0.0.0/8", "::1"])
    guard.check_sync("http://localhost:9000/")
    guard.check_sync("http://10.20.30.40/")
    guard.check_sync("http://[::1]:8080/")
    with pytest.raises(HostNotAllowedError):
        guard.check_sync("http://192.168.0.1/")
    with pytest.raises(HostNotAllowedError):
        guard.check_sync("http://127.0.0.1/")  # allowing the name "localhost" does not allow the address
    HostGuard(["127.0.0.1"]).check_sync("http://127.0.0.1:1234/")
    HostGuard(["127.0.0.0/8"]).check_sync("http://localhost/")  # resolves into the block
    HostGuard(["*.internal.test"]).check_sync("http://shop.internal.test/")


def test_allow_list_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AISLE_ALLOW_HOSTS", "127.0.0.1, 192.168.0.0/16")
    guard = HostGuard(Settings.from_env().allow_hosts)  # the entry point reads the environment, once
    guard.check_sync("http://127.0.0.1/")
    guard.check_sync("http://192.168.5.5/")
    with pytest.raises(HostNotAllowedError):
        HostGuard().check_sync("http://192.168.5.5/")


@pytest.mark.parametrize("entry", ["http://x/", "a b", "..", "host/path"])
def test_garbled_allow_entries_are_config_errors(entry: str) -> None:
    with pytest.raises(ConfigError):
        HostGuard([entry])


def test_is_public_classification() -> None:
    assert is_public(ipaddress.ip_address("93.184.216.34"))
    assert not is_public(ipaddress.ip_address("::ffff:10.0.0.1"))


def test_redirects_into_private_networks_are_refused() -> None:
    """The guard runs for every hop: a public host redirecting to a metadata endpoint is stopped."""
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(302, headers={"location": "http://169.254.169.254/latest/meta-data/"})

    async def go() -> None:
        client = PoliteClient(ClientSettings(delay=0, retries=0), HostGuard(),
                              transport=httpx.MockTransport(handler))
        async with client:
            await client.get_json("http://8.8.8.8/products.json")

    with pytest.raises(HostNotAllowedError, match="169.254.169.254"):
        asyncio.run(go())
    assert seen == ["http://8.8.8.8/products.json"]


def test_crawl_refuses_a_loopback_target_before_fetching(tmp_path: Path) -> None:
    with Store.open(tmp_path / "c.duckdb") as store:
        with pytest.raises(HostNotAllowedError, match="127.0.0.1"):
            crawl([Target.shopify("http://127.0.0.1:9/shop")], store, settings=CrawlSettings(delay=0))
        assert store.stats()["crawl_runs"] == 0
