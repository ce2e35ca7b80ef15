"""UCP discovery (``GET /.well-known/ucp``) and ``UCP-Agent`` version negotiation, over a real server: the
profile validates against UCP's ``profile.json#/$defs/business_schema``, names capabilities and services in
reverse-DNS with ``YYYY-MM-DD`` versions (what UCP's conformance suite checks), and every ``/ucp/`` operation
answers a supported version and refuses another with UCP's ``error_response``."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from search.engine import Engine
from search.serve.http import create_app
from search.serve.ucp import UCP_VERSION
from search.serve.ucp_discovery import negotiate, parse_ucp_agent
from tests.search.apiworld import running_api, schema_errors, ucp_validator
from tests.search.conftest import make_engine, merchant, product, variant

REVERSE_DNS = re.compile(r"^[a-z][a-z0-9-]*(\.[a-z0-9][a-z0-9_-]*)+$")
VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}$")
AGENT = 'profile="https://agent.example/profile.json"'


@pytest.fixture(scope="module")
def engine() -> Engine:
    m = merchant("knits.myshopify.com")
    return make_engine([product("Red Wool Beanie", [variant({"Color": "Red", "Size": "M"}, price=3400, vid="11")],
                                m=m, pid="1")], [m])


@pytest.fixture(scope="module")
def base(engine: Engine) -> Iterator[str]:
    with running_api(create_app(engine=engine, refresh_interval=0)) as url:
        yield url


def test_profile_validates_and_declares_the_catalog(base: str) -> None:
    resp = httpx.get(f"{base}/.well-known/ucp", trust_env=False)
    assert resp.status_code == 200 and resp.headers["content-type"] == "application/json"
    doc = resp.json()
    assert schema_errors(ucp_validator("profile.json#/$defs/business_schema"), doc) == []
    ucp = doc["ucp"]
    assert VERSION.match(ucp["version"]) and ucp["version"] == UCP_VERSION
    assert set(ucp["capabilities"]) == {"dev.ucp.shopping.catalog.search", "dev.ucp.shopping.catalog.lookup",
                                        "dev.ucp.shopping.cart"}  # permalink needs https (below)
    for name, entries in [*ucp["capabilities"].items(), *ucp["services"].items()]:
        assert REVERSE_DNS.match(name), name
        for e in entries:
            assert VERSION.match(e["version"]) and e["spec"].startswith("https://ucp.dev/")  # dev.ucp.* authority
    [service] = ucp["services"]["dev.ucp.shopping"]
    assert service["transport"] == "rest" and service["endpoint"] == f"{base}/ucp"
    assert ucp["payment_handlers"] == {}
    # The endpoint is where UCP's operation paths answer: /catalog/search under it.
    found = httpx.post(f"{service['endpoint']}/catalog/search", json={"query": "beanie"}, trust_env=False)
    assert found.status_code == 200 and found.json()["products"][0]["id"] == "shopify:knits.myshopify.com:1"


def test_profile_behind_tls_declares_the_permalink(base: str) -> None:
    # uvicorn trusts X-Forwarded-* from a loopback proxy: the profile then names https endpoints.
    doc = httpx.get(f"{base}/.well-known/ucp", headers={"X-Forwarded-Proto": "https"}, trust_env=False).json()
    assert schema_errors(ucp_validator("profile.json#/$defs/business_schema"), doc) == []
    [permalink] = doc["ucp"]["capabilities"]["dev.ucp.shopping.permalink"]
    assert permalink["config"]["endpoint"].startswith("https://") and permalink["config"]["endpoint"].endswith(
        "/ucp/buy")
    declared = ucp_validator("shopping/permalink.json#/$defs/dev.ucp.shopping.permalink/business_schema")
    assert schema_errors(declared, permalink) == []
    assert doc["ucp"]["services"]["dev.ucp.shopping"][0]["endpoint"].startswith("https://")


@pytest.mark.parametrize("header", [None, AGENT, f'{AGENT}, version="{UCP_VERSION}"',
                                    f'profile="https://a.example/p";version="{UCP_VERSION}"'])
def test_supported_version_answers(base: str, header: str | None) -> None:
    headers = {"UCP-Agent": header} if header else {}
    for path, body in (("/ucp/catalog/search", {"query": "beanie"}), ("/ucp/catalog/lookup", {"ids": ["11"]})):
        resp = httpx.post(f"{base}{path}", json=body, headers=headers, trust_env=False)
        assert resp.status_code == 200, resp.text
        assert resp.json()["ucp"] == {**resp.json()["ucp"], "version": UCP_VERSION, "status": "success"}


@pytest.mark.parametrize(("header", "code"), [
    (f'{AGENT}, version="2099-01-01"', "version_unsupported"),
    (f'{AGENT}, version="2020-01-01"', "version_unsupported"),
    ('profile="https://agent.example/p";version="not-a-date"', "version_unsupported"),
    ("https://agent.example/profile.json", "invalid_ucp_agent"),
    (f'version="{UCP_VERSION}"', "invalid_ucp_agent"),
    (f"{AGENT}, version=2026-04-08", "invalid_ucp_agent"),
])
def test_unsupported_or_malformed_agent_gets_a_ucp_error(base: str, header: str, code: str) -> None:
    error_schema = ucp_validator("common/types/error_response.json")
    for method, path, body in (("POST", "/ucp/catalog/search", {"query": "beanie"}),
                               ("POST", "/ucp/catalog/product", {"id": "11"}),
                               ("POST", "/ucp/carts", {"line_items": [{"item": {"id": "11"}, "quantity": 1}]}),
                               ("GET", "/ucp/carts/c1.e30", None)):
        resp = httpx.request(method, f"{base}{path}", json=body, headers={"UCP-Agent": header}, trust_env=False)
        assert resp.status_code == 400, (path, resp.text)
        doc = resp.json()
        assert schema_errors(error_schema, doc) == []
        [msg] = doc["messages"]
        assert msg["code"] == code and msg["severity"] == "recoverable" and doc["ucp"]["status"] == "error"
        if code == "version_unsupported":
            assert UCP_VERSION in msg["content"]  # says which version to retry with


def test_header_parser() -> None:
    agent = parse_ucp_agent('profile="https://a.example/p\\"q";x=?1, version="2026-04-08", other=12')
    assert (agent.profile, agent.version) == ('https://a.example/p"q', "2026-04-08")
    assert negotiate(None) == negotiate(AGENT) == UCP_VERSION
    for bad in ("", "profile=", 'profile="unterminated', "Profile=\"x\"", 'profile="x" junk', "a" * 3000):
        with pytest.raises(ValueError):
            parse_ucp_agent(bad)


def test_discovery_errors_stay_in_the_aisle_envelope(base: str) -> None:
    resp = httpx.post(f"{base}/.well-known/ucp", trust_env=False)
    assert resp.status_code == 405 and resp.json()["error"]["code"] == "method_not_allowed"




def test_discovery_is_public_behind_a_token(engine: Engine) -> None:
    # A UCP agent reads the profile before it holds any credential; what the profile names stays guarded.
    with running_api(create_app(engine=engine, token="s3cret-token", refresh_interval=0)) as url:
        resp = httpx.get(f"{url}/.well-known/ucp", trust_env=False)
        assert resp.status_code == 200 and resp.json()["ucp"]["version"] == UCP_VERSION
        assert httpx.post(f"{url}/ucp/catalog/search", json={"query": "beanie"}, trust_env=False).status_code == 401
        assert httpx.post(f"{url}/.well-known/ucp", trust_env=False).status_code == 401
